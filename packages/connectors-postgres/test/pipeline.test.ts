// The whole pipeline holds: 10,000 rows through a consumer task whose
// transactions run as durable flows (two steps, each writing to a
// side-effect ledger) on SQLite, in 3 consumer processes, 5 of which are
// SIGKILLed during the run (each replaced at once). Every flow completes
// once, every step's effect is recorded once per transaction, no row is
// left in the queue and none is dead-lettered.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTransaction } from '@ergon/core';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { countFlowStatuses, runKillPipeline } from '@ergon/testing';
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
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    cleanups.push(() => dropSchemas(admin, [schema]));

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
      await once(child, 'message');
      return child;
    };
    // The store's schema is made once, before the processes race to open it.
    await (await SqliteExecutionLog.open({ path: config.store })).close();

    const count = async (sql: string) => Number((await admin.query(sql)).rows[0].n);
    const completed = () => count(`SELECT count(*) AS n FROM "${schema}".completions`);
    const left = () => count(`SELECT count(*) AS n FROM "${schema}".queue`);
    // A kill at every sixth of the run, round the processes, each replaced at once; the survivors
    // stop gracefully at the end.
    const { kills, seconds } = await runKillPipeline({
      processes: PROCESSES,
      kills: KILLS,
      total: MESSAGES,
      start: spawn,
      finished: async () => completed(),
      drained: async () => (await left()) === 0,
      left: async () => `${await left()} rows left`,
      timeoutMs: 240_000,
      pollMs: 50,
    });
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
    expect(await countFlowStatuses(client)).toEqual({ completed: MESSAGES });
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
