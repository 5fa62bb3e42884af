// The whole pipeline holds: 10,000 entries through a consumer task whose
// transactions run as durable flows (two steps, each writing to a
// side-effect ledger) on SQLite, in 3 consumer processes, 5 of which are
// SIGKILLed during the run (each replaced at once). Every flow completes
// once, every step's effect is recorded once per transaction, nothing is
// left pending and nothing is dead-lettered.
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
import { createRedisStreamsConnector } from '../src/index.js';
import { adminClient, REDIS_URL, redisAvailable } from './support.js';

const WORKER = fileURLToPath(new URL('./fixtures/pipeline-worker.mjs', import.meta.url));
const MESSAGES = 10_000;
const PROCESSES = 3;
const KILLS = 5;
const CONCURRENCY = 32;

const admin = adminClient();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe.runIf(redisAvailable)('10,000 entries through durable flows in 3 processes with 5 SIGKILLs', () => {
  it('every flow completes once, every effect is recorded once, nothing is left pending or dead', async () => {
    const run = `ergon-test:rs-pipeline:${process.pid}-${Date.now()}`;
    const stream = `${run}:stream`;
    const dir = await mkdtemp(join(tmpdir(), 'ergon-rs-pipeline-'));
    const config = {
      url: REDIS_URL,
      stream,
      store: join(dir, 'ergon.db'),
      ledger: run,
      concurrency: CONCURRENCY,
    };
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    cleanups.push(() =>
      admin.del(stream, `${stream}:dead-letter`, `${run}:runs`, `${run}:effects`, `${run}:completions`),
    );

    const producer = createRedisStreamsConnector<{ n: number }>({ url: REDIS_URL, stream });
    for (let from = 0; from < MESSAGES; from += 1000) {
      await producer.dispatchTransactions(
        Array.from({ length: 1000 }, (_, i) =>
          createTransaction({ id: `m-${from + i}`, payload: { n: from + i } }),
        ),
      );
    }
    await producer.stop();

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

    const completed = () => admin.hlen(`${run}:completions`);
    const pending = async () => Number((await admin.xpending(stream, 'ergon'))[0]);
    // A kill at every sixth of the run, round the processes, each replaced at once; the survivors
    // stop gracefully at the end.
    const { kills, seconds } = await runKillPipeline({
      processes: PROCESSES,
      kills: KILLS,
      total: MESSAGES,
      start: spawn,
      finished: async () => completed(),
      drained: async () => (await pending()) === 0,
      left: async () => `${await pending()} pending`,
      timeoutMs: 150_000,
      pollMs: 50,
    });
    expect(kills).toBe(KILLS);

    // Every step's effect exactly once per transaction (the ledger is keyed by idempotency key).
    const effects = await admin.hgetall(`${run}:effects`);
    expect(Object.keys(effects)).toHaveLength(2 * MESSAGES);
    for (let i = 0; i < MESSAGES; i++) {
      expect(effects[`m-${i}/first#0`], `m-${i} first`).toBeDefined();
      expect(effects[`m-${i}/second#0`], `m-${i} second`).toBeDefined();
    }
    // Every flow completed, once, in the store.
    const store = await SqliteExecutionLog.open({ path: config.store });
    cleanups.push(() => store.close());
    const client = new Client({ store });
    expect(await countFlowStatuses(client)).toEqual({ completed: MESSAGES });
    // Nothing pending, nothing dead-lettered.
    expect(await pending()).toBe(0);
    expect(await admin.xlen(`${stream}:dead-letter`)).toBe(0);

    const runs = Object.values(await admin.hgetall(`${run}:runs`)).reduce((sum, n) => sum + Number(n), 0);
    const completions = Object.values(await admin.hgetall(`${run}:completions`)).map(Number);
    console.log(
      `pipeline: ${MESSAGES} transactions in ${seconds.toFixed(1)} s (${Math.round(MESSAGES / seconds)}/s) with ${KILLS} SIGKILLs; ` +
        `${runs - 2 * MESSAGES} step runs repeated after kills (effects still once), ` +
        `${completions.filter((n) => n > 1).length} transactions redelivered after their flow had finished`,
    );
  }, 180_000);
});
