// Flow control across worker PROCESSES (real child processes) on SQLite, Redis and PostgreSQL:
// the store keeps each rule for every worker. The test samples the store continuously while the
// workers run, and checks the workers' own ledger of when each run started and ended.
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { defaultCodec, type ExecutionLog, type RuntimeExecutionLog, runtimeStore } from '@ergon/core';
import { Client } from '@ergon/executor';
import { requireService } from '@ergon/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { dropPostgresSchema, POSTGRES_URL, postgresSchema } from './postgres.js';

const WORKER = fileURLToPath(new URL('./fixtures/flow-control-worker.mjs', import.meta.url));
const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';
// Skipped only off CI when the service is down (requireService warns); under CI=true it throws instead.
const redisAvailable = (await requireService('Redis', REDIS_URL)).available;
const postgresAvailable = (await requireService('PostgreSQL', POSTGRES_URL)).available;
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** One store of one kind, the environment its worker processes open it with, and its cleanup. */
interface Backend {
  readonly store: ExecutionLog;
  readonly env: Record<string, string>;
  readonly dispose: () => Promise<void>;
}

type Kind = 'sqlite' | 'redis' | 'postgres';

async function openBackend(kind: Kind, dir: string): Promise<Backend> {
  if (kind === 'sqlite') {
    const path = join(dir, 'fc.db');
    const { SqliteExecutionLog } = await import('@ergon/storage-sqlite');
    const store = await SqliteExecutionLog.open({ path });
    return { store, env: { STORE: 'sqlite', DB_PATH: path }, dispose: () => runtimeStore(store).close() };
  }
  if (kind === 'postgres') {
    const schema = postgresSchema('fc');
    const { PostgresExecutionLog } = await import('@ergon/storage-postgres');
    const store = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema, poolSize: 4 });
    return {
      store,
      env: { STORE: 'postgres', POSTGRES_URL, POSTGRES_SCHEMA: schema },
      dispose: async () => {
        await runtimeStore(store).close();
        await dropPostgresSchema(schema);
      },
    };
  }
  const prefix = `ergon-test:fc:${randomUUID()}`;
  const { RedisExecutionLog } = await import('@ergon/storage-redis');
  const store = await RedisExecutionLog.open({ url: REDIS_URL, prefix });
  return {
    store,
    env: { STORE: 'redis', REDIS_URL, REDIS_PREFIX: prefix },
    dispose: async () => {
      await runtimeStore(store).close();
      const admin = new Redis(REDIS_URL);
      const keys = await admin.keys(`{${prefix}}:*`);
      if (keys.length > 0) await admin.del(...keys);
      admin.disconnect();
    },
  };
}

/** A ledger line: a run of `flow` (key `key`) started or ended at `at`. */
interface Mark {
  readonly kind: 'start' | 'end';
  readonly flow: string;
  readonly key: string;
  readonly at: number;
  /** For a start: when the store recorded the claim (the flow's `updatedAt` then). */
  readonly claimedAt: number;
}

function readLedger(path: string): Mark[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [kind, flow, key, at, claimedAt] = line.split(' ');
      return {
        kind: kind as Mark['kind'],
        flow: flow ?? '',
        key: key ?? '',
        at: Number(at),
        claimedAt: Number(claimedAt),
      };
    });
}

/** The most runs whose [start, end] overlap at one instant, over all runs or those of one key. */
function peakOverlap(marks: readonly Mark[], key?: string): number {
  const events = marks
    .filter((m) => key === undefined || m.key === key)
    // At equal times an end goes first: a run that ended as another started never overlapped it.
    .map((m) => [m.at, m.kind === 'start' ? 1 : -1] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, step] of events) {
    now += step;
    peak = Math.max(peak, now);
  }
  return peak;
}

/** Runs `body` with `count` worker processes on the backend, then stops them. */
async function withWorkers(
  kind: Kind,
  count: number,
  extra: Record<string, string>,
  body: (ctx: {
    backend: Backend;
    client: Client;
    store: RuntimeExecutionLog;
    ledger: string;
  }) => Promise<void>,
  before?: (ctx: { client: Client; store: RuntimeExecutionLog }) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ergon-fc-'));
  dirs.push(dir);
  const ledger = join(dir, 'ledger.txt');
  const backend = await openBackend(kind, dir);
  const store = runtimeStore(backend.store);
  const client = new Client({ store });
  const workers: ChildProcess[] = [];
  try {
    await before?.({ client, store });
    for (let i = 0; i < count; i++) {
      workers.push(
        await new Promise<ChildProcess>((resolve, reject) => {
          const child = fork(WORKER, [], {
            env: { ...process.env, ...backend.env, ...extra, LEDGER: ledger },
            stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
          });
          child.once('message', () => resolve(child));
          child.once('error', reject);
        }),
      );
    }
    await body({ backend, client, store, ledger });
  } finally {
    for (const worker of workers) worker.kill('SIGKILL');
    await backend.dispose();
  }
}

/** Samples the store until `done` says so: the most running flows seen at once, overall and per key. */
async function sample(
  store: RuntimeExecutionLog,
  done: () => Promise<boolean>,
  timeoutMs: number,
): Promise<{ running: number; perKey: number; samples: number }> {
  const deadline = Date.now() + timeoutMs;
  let running = 0;
  let perKey = 0;
  let samples = 0;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    const now = Date.now();
    const page = await store.listFlows({ status: 'running', queue: 'fc', limit: 1000 });
    const live = page.flows.filter((f) => (f.leaseExpiresAt ?? 0) > now);
    const byKey = new Map<string, number>();
    for (const f of live) byKey.set(f.concurrencyKey ?? '', (byKey.get(f.concurrencyKey ?? '') ?? 0) + 1);
    running = Math.max(running, live.length, (await store.getQueueState({ queue: 'fc', now })).running);
    perKey = Math.max(perKey, ...byKey.values());
    samples++;
    await delay(2);
  }
  return { running, perKey, samples };
}

const KINDS: readonly { kind: Kind; available: boolean }[] = [
  { kind: 'sqlite', available: true },
  { kind: 'redis', available: redisAvailable },
  { kind: 'postgres', available: postgresAvailable },
];

describe.each(KINDS)('flow control across worker processes on $kind', ({ kind, available }) => {
  // Service guard: under CI=true a missing service fails above (requireService); elsewhere skipped loudly.
  it.skipIf(!available)(
    'never has more than the queue limit running, nor more than the key limit per key, at any instant',
    async () => {
      await withWorkers(
        kind,
        3,
        { HOLD_MS: '150', CONCURRENCY: '4' },
        async ({ client, store, ledger }) => {
          const handles = [];
          for (let i = 0; i < 30; i++) {
            handles.push(
              await client.schedule(
                'fc-hold',
                { key: `k${i % 5}` },
                { queue: 'fc', concurrencyKey: `k${i % 5}`, concurrencyLimit: 1 },
              ),
            );
          }
          const seen = await sample(
            store,
            async () => readLedger(ledger).filter((m) => m.kind === 'end').length >= 30,
            90_000,
          );
          expect(seen.samples).toBeGreaterThanOrEqual(5);
          expect(seen.running).toBeLessThanOrEqual(3);
          expect(seen.perKey).toBeLessThanOrEqual(1);
          const marks = readLedger(ledger);
          expect(peakOverlap(marks)).toBeLessThanOrEqual(3);
          // The limit was reached, not merely never tested: at some point three ran at once.
          expect(peakOverlap(marks)).toBe(3);
          for (let k = 0; k < 5; k++) expect(peakOverlap(marks, `k${k}`)).toBeLessThanOrEqual(1);
          for (const handle of handles) expect(await handle.result({ timeout: '30s' })).toMatch(/^k\d$/);
        },
        ({ client }) => client.queues.configure('fc', { concurrency: 3 }),
      );
    },
  );

  it.skipIf(!available)('never starts more than the rate in any window of its period', async () => {
    const periodMs = 1000;
    const limit = 5;
    await withWorkers(
      kind,
      3,
      { CONCURRENCY: '8' },
      async ({ client, ledger }) => {
        for (let i = 0; i < 20; i++) await client.schedule('fc-quick', { key: 'r' }, { queue: 'fc' });
        const deadline = Date.now() + 60_000;
        while (readLedger(ledger).length < 20) {
          if (Date.now() > deadline) throw new Error('the 20 flows did not start within 60 s');
          await delay(20);
        }
        // The claims' times as the store recorded them: the times its window is kept in. Workers
        // read their clocks just before their claims reach the store, so a claim may arrive a
        // little after one with a later clock; SKEW allows for that, and nothing more.
        const SKEW = 25;
        const starts = readLedger(ledger)
          .map((m) => m.claimedAt)
          .sort((x, y) => x - y);
        if (process.env.FC_DEBUG) console.log(starts.map((t) => t - (starts[0] ?? 0)).join(' '));
        for (const s of starts) {
          expect(starts.filter((t) => t > s - (periodMs - SKEW) && t <= s).length).toBeLessThanOrEqual(limit);
        }
        // 20 starts at 5 per period take at least three periods after the first five.
        expect((starts.at(-1) ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(3 * periodMs - SKEW);
      },
      ({ client }) => client.queues.configure('fc', { rate: { limit, period: periodMs } }),
    );
  });

  it.skipIf(!available)(
    'starts all of a small tenant’s flows within a few of a large tenant’s 10,000 queued ones',
    async () => {
      await withWorkers(
        kind,
        2,
        { CONCURRENCY: '4' },
        async ({ client, store, ledger }) => {
          const started = () => readLedger(ledger);
          const deadline = Date.now() + 60_000;
          while (started().length < 20) {
            if (Date.now() > deadline) throw new Error('tenant A did not start');
            await delay(10);
          }
          const small = [];
          for (let i = 0; i < 10; i++) {
            const handle = await client.schedule(
              'fc-quick',
              { key: 'B' },
              { queue: 'fc', concurrencyKey: 'B' },
            );
            small.push(handle.id);
          }
          const createdAt = Date.now();
          const bDeadline = Date.now() + 60_000;
          while (started().filter((m) => m.key === 'B').length < 10) {
            if (Date.now() > bDeadline) throw new Error('tenant B’s flows did not all start within 60 s');
            await delay(5);
          }
          const marks = started();
          // Counted by the claims' times as the store recorded them (as the rate test above does):
          // fair order is the store's order of claims. A run's own start adds the time its worker
          // process took to get to it, and a process that stalls (CPU or I/O starved) between
          // claiming B's flows and running them lets the other worker run A's flows that the store
          // claimed, rightly, after B's (two failures under heavy I/O counted 145 and 173 starts so;
          // with one worker frozen for 300-700 ms at a time, 42 starts while A's claims were 10).
          const bMarks = marks.filter((m) => m.key === 'B');
          const lastB = Math.max(...bMarks.map((m) => m.claimedAt));
          const aMeanwhile = marks.filter(
            (m) => m.key === 'A' && m.claimedAt > createdAt && m.claimedAt <= lastB,
          ).length;
          const lastBRun = Math.max(...bMarks.map((m) => m.at));
          const aRunsMeanwhile = marks.filter((m) => m.key === 'A' && m.at > createdAt && m.at <= lastBRun);
          const seen = `A claims ${aMeanwhile}, A runs started ${aRunsMeanwhile.length} meanwhile`;
          // Fair order interleaves B with A from B's arrival: about ten A flows, plus claims in flight.
          expect(aMeanwhile, seen).toBeLessThanOrEqual(40);
          const aLeft = (await store.listFlows({ status: 'pending', queue: 'fc', limit: 1000 })).flows.length;
          expect(aLeft, 'A still had a large backlog when B was done').toBeGreaterThanOrEqual(1000);
          expect(small).toHaveLength(10);
        },
        async ({ store }) => {
          const now = Date.now();
          const batch: Promise<unknown>[] = [];
          for (let i = 0; i < 10_000; i++) {
            batch.push(
              store.createFlow({
                id: `a-${i}-${randomUUID()}`,
                type: 'fc-quick',
                queue: 'fc',
                input: defaultCodec.encode({ key: 'A' }),
                priority: 0,
                runAt: now,
                now,
                concurrencyKey: 'A',
              }),
            );
            if (batch.length === 200) await Promise.all(batch.splice(0));
          }
          await Promise.all(batch);
        },
      );
    },
    // 10,000 keyed creates are a transaction each on PostgreSQL: a minute or two on a busy machine.
    300_000,
  );

  it.skipIf(!available)(
    'debounces 1,000 schedule calls in a burst into one run with the last input',
    async () => {
      await withWorkers(kind, 2, { CONCURRENCY: '4' }, async ({ client, ledger }) => {
        const ids = new Set<string>();
        for (let n = 0; n < 1000; n++) {
          const handle = await client.schedule(
            'fc-echo',
            { key: 'd', n },
            { queue: 'fc', debounce: { key: 'profile', delay: '1s' } },
          );
          ids.add(handle.id);
        }
        expect(ids.size).toBe(1);
        const [id] = [...ids];
        expect(await client.result(id ?? '', { timeout: '30s' })).toBe(999);
        await delay(1500);
        expect(readLedger(ledger).filter((m) => m.key === 'd')).toHaveLength(1);
      });
    },
  );
});
