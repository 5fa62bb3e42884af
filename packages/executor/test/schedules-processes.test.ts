// The acceptance of schedules across processes: a schedule that fires every second, served by
// two worker processes, one of which is SIGKILLed and replaced by a third. Every tick from the
// first to where the cursor stands has exactly one flow (none missed, none doubled), and the
// ticks go on through the kill. Real child processes on a real shared store (SQLite file,
// Redis, PostgreSQL); the in-memory store cannot be shared by processes.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type ExecutionLog, runtimeStore } from '@ergon/core';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { Client, flow, tickFlowId } from '../src/index.js';
import { createTestStore, STORE_KIND } from './stores.js';
import { until } from './support.js';

const WORKER = fileURLToPath(new URL('./fixtures/schedule-worker.mjs', import.meta.url));
const tick = flow('tick', async (_ctx, input: { readonly n: number }) => input);

/** Where a child process finds the store `store` (its file, key prefix or schema; cluster nodes too). */
function locationOf(store: ExecutionLog): string {
  const s = store as unknown as { path?: string; prefix?: string; schema?: string };
  if (STORE_KIND === 'redis-cluster')
    return JSON.stringify({ nodes: inject('redisClusterNodes'), prefix: s.prefix });
  const where = STORE_KIND === 'sqlite' ? s.path : STORE_KIND === 'redis' ? s.prefix : s.schema;
  if (!where) throw new Error(`no location for a ${STORE_KIND} store`);
  return where;
}

const children: ChildProcess[] = [];

async function spawnWorker(where: string): Promise<ChildProcess> {
  const child = fork(WORKER, [STORE_KIND, where], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const [message] = (await once(child, 'message')) as [string];
  expect(message).toBe('ready');
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

afterEach(async () => {
  await Promise.all(children.splice(0).map(kill));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(STORE_KIND === 'memory')(
  'schedules across worker processes (skipped on the in-memory store: processes cannot share it)',
  () => {
    it('two processes and a SIGKILL with a replacement: every tick starts one flow, none missed, none doubled', async () => {
      const { store, dispose } = await createTestStore();
      try {
        const where = locationOf(store);
        const client = new Client({ store });
        const [a] = await Promise.all([spawnWorker(where), spawnWorker(where)]);
        const created = await client.schedules.create({
          id: 'every-second',
          flow: tick,
          cron: '* * * * * *',
          overlap: 'allow',
          catchup: 1000,
          input: { n: 1 },
        });
        const first = created.nextRunAt?.getTime() ?? Number.NaN;
        await sleep(3000);
        if (!a) throw new Error('unreachable');
        const killedAt = Date.now();
        await kill(a);
        await spawnWorker(where);
        await sleep(3000);
        const paused = await client.schedules.pause('every-second');
        const cursor =
          (await runtimeStore(store).schedules.getSchedule('every-second'))?.nextAt ?? Number.NaN;
        expect(paused.paused).toBe(true);

        // Every tick from the first up to the cursor, each one second apart.
        const ticks: number[] = [];
        for (let t = first; t < cursor; t += 1000) ticks.push(t);
        expect(ticks.length).toBeGreaterThanOrEqual(4);
        expect(ticks.some((t) => t > killedAt)).toBe(true);
        const page = await client.list({ type: 'tick', limit: 1000 });
        const ids = page.flows.map((f) => f.id);
        // A pass that started the cursor's own tick as the pause landed may have left its flow.
        const expected = ticks.map((t) => tickFlowId('every-second', t));
        const extra = ids.filter((id) => !expected.includes(id));
        expect(extra.every((id) => id === tickFlowId('every-second', cursor))).toBe(true);
        expect(ids.filter((id) => expected.includes(id)).sort()).toEqual(expected.sort());
        expect(new Set(ids).size).toBe(ids.length);
        // The survivors run them all to the end, each once.
        await until(async () => {
          const done = await client.list({ type: 'tick', status: 'completed', limit: 1000 });
          return done.flows.length === ids.length;
        }, 20_000);
        for (const id of expected) expect(await client.result(id)).toMatchObject({ n: 1 });
      } finally {
        await Promise.all(children.splice(0).map(kill));
        await dispose();
      }
    }, 60_000);
  },
);
