// The whole pipeline holds: 10,000 rows through a consumer task whose
// transactions run as durable flows (two steps, each writing to a
// side-effect ledger) on SQLite, in 3 consumer processes, 5 of which are
// SIGKILLed during the run (each replaced at once). Every flow completes
// once, every step's effect is recorded once per transaction, no row is
// left in the queue and none is dead-lettered.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTransaction } from '@ergon/core';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresQueue } from '../src/index.js';
import { adminPool, dropSchemas, POSTGRES_URL, postgresAvailable, uniqueSchema } from './support.js';

const WORKER = fileURLToPath(new URL('./fixtures/pipeline-worker.mjs', import.meta.url));
const MESSAGES = 10_000;
const PROCESSES = 3;
const KILLS = 5;
const CONCURRENCY = 32;

const admin = adminPool();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe.runIf(postgresAvailable)('10,000 rows through durable flows in 3 processes with 5 SIGKILLs', () => {
  it('every flow completes once, every effect is recorded once, nothing is left in the queue or dead', async () => {
    const schema = uniqueSchema('pipeline');
    const dir = await mkdtemp(join(tmpdir(), 'ergon-pg-pipeline-'));
    const config = { url: POSTGRES_URL, schema, store: join(dir, 'ergon.db'), concurrency: CONCURRENCY };
    const workers = new Set<ChildProcess>();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    cleanups.push(() => dropSchemas(admin, [schema]));
    cleanups.push(async () => {
      for (const w of workers) w.kill('SIGKILL');
    });

    const producer = createPostgresQueue<{ n: number }>({ url: POSTGRES_URL, schema, table: 'queue' });
    for (let from = 0; from < MESSAGES; from += 1000) {
      await producer.dispatchTransactions(
        Array.from({ length: 1000 }, (_, i) =>
          createTransaction({ id: `m-${from + i}`, payload: { n: from + i } }),
        ),
      );
    }
    await producer.stop();
    await admin.query(`CREATE TABLE "${schema}".runs (key text PRIMARY KEY, n int NOT NULL)`);
    await admin.query(`CREATE TABLE "${schema}".effects (key text PRIMARY KEY, pid int NOT NULL)`);
    await admin.query(`CREATE TABLE "${schema}".completions (id text PRIMARY KEY, n int NOT NULL)`);

    const spawn = async () => {
      const child = fork(WORKER, [], {
        execArgv: [],
        env: { ...process.env, ERGON_TEST_CONFIG: JSON.stringify(config) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      workers.add(child);
      child.once('exit', () => workers.delete(child));
      await once(child, 'message');
      return child;
    };
    // The store's schema is made once, before the processes race to open it.
    await (await SqliteExecutionLog.open({ path: config.store })).close();
    const started = Date.now();
    await Promise.all(Array.from({ length: PROCESSES }, spawn));

    const count = async (sql: string) => Number((await admin.query(sql)).rows[0].n);
    const completed = () => count(`SELECT count(*) AS n FROM "${schema}".completions`);
    const left = () => count(`SELECT count(*) AS n FROM "${schema}".queue`);
    let kills = 0;
    const deadline = Date.now() + 240_000;
    for (;;) {
      const done = await completed();
      if (done >= MESSAGES && (await left()) === 0) break;
      if (Date.now() > deadline)
        throw new Error(`only ${done} of ${MESSAGES} completed, ${await left()} rows left`);
      // A kill at every sixth of the run, the next process in turn, replaced at once.
      if (kills < KILLS && done >= ((kills + 1) * MESSAGES) / (KILLS + 1)) {
        const victim = [...workers][kills % workers.size] as ChildProcess;
        victim.kill('SIGKILL');
        await once(victim, 'exit');
        kills++;
        await spawn();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = (Date.now() - started) / 1000;
    await Promise.all(
      [...workers].map(async (w) => {
        const exit = once(w, 'exit');
        w.kill('SIGTERM');
        await exit;
      }),
    );
    expect(kills).toBe(KILLS);

    // Every step's effect exactly once per transaction (the ledger is keyed by idempotency key).
    const effects = new Set(
      (await admin.query(`SELECT key FROM "${schema}".effects`)).rows.map((r) => r.key),
    );
    expect(effects.size).toBe(2 * MESSAGES);
    for (let i = 0; i < MESSAGES; i++) {
      expect(effects.has(`m-${i}/first#0`), `m-${i} first`).toBe(true);
      expect(effects.has(`m-${i}/second#0`), `m-${i} second`).toBe(true);
    }
    // Every flow completed, once, in the store.
    const store = await SqliteExecutionLog.open({ path: config.store });
    cleanups.push(() => store.close());
    const client = new Client({ store });
    const statuses = new Map<string, number>();
    let cursor: string | undefined;
    do {
      const page = await client.list({ limit: 1000, ...(cursor ? { cursor } : {}) });
      for (const f of page.flows) statuses.set(f.status, (statuses.get(f.status) ?? 0) + 1);
      cursor = page.nextCursor;
    } while (cursor);
    expect(Object.fromEntries(statuses)).toEqual({ completed: MESSAGES });
    // Nothing left, nothing dead-lettered.
    expect(await left()).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM "${schema}".queue_dead_letter`)).toBe(0);

    const runs = await count(`SELECT coalesce(sum(n), 0) AS n FROM "${schema}".runs`);
    const redelivered = await count(`SELECT count(*) AS n FROM "${schema}".completions WHERE n > 1`);
    console.log(
      `pipeline: ${MESSAGES} transactions in ${seconds.toFixed(1)} s (${Math.round(MESSAGES / seconds)}/s) with ${KILLS} SIGKILLs; ` +
        `${runs - 2 * MESSAGES} step runs repeated after kills (effects still once), ` +
        `${redelivered} transactions redelivered after their flow had finished`,
    );
  }, 270_000);
});
