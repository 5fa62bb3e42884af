// The whole pipeline holds: 10,000 transactions (JSON lines, 200 objects of
// 50 lines: one object per message would be ~40,000 requests, more than
// s3rver serves within the suite's time on a shared 2-core machine) through
// a consumer task whose transactions run as durable flows (two steps, each
// writing to a side-effect ledger) on SQLite, in 3 consumer processes, 5 of
// which are SIGKILLed during the run (each replaced at once), on the private
// s3rver (read-after-write claims) or ERGON_S3_URL. Every flow completes
// once, every step's effect is recorded once per transaction, no object is
// left under the prefix and none is dead-lettered.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { countFlowStatuses, runKillPipeline } from '@ergon/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createS3Connector } from '../src/index.js';
import { connectorOptions, deleteUnder, uniquePrefix, useS3 } from './support.js';

const WORKER = fileURLToPath(new URL('./fixtures/pipeline-worker.mjs', import.meta.url));
const MESSAGES = 10_000;
const PROCESSES = 3;
const KILLS = 5;
const CONCURRENCY = 32;
const LINES = 50;

const s3 = useS3();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

describe('10,000 transactions in JSON-lines objects through durable flows in 3 processes with 5 SIGKILLs', () => {
  it('every flow completes once, every effect is recorded once, nothing is left under the prefix or dead', async () => {
    const prefix = uniquePrefix();
    const dir = await mkdtemp(join(tmpdir(), 'ergon-s3-pipeline-'));
    mkdirSync(join(dir, 'effects'));
    const options = {
      ...connectorOptions(s3.current, prefix),
      format: 'json-lines' as const,
      lease: '3s',
      claimSettle: '30ms',
      maxInFlight: CONCURRENCY,
    };
    const config = { s3: options, store: join(dir, 'ergon.db'), dir, concurrency: CONCURRENCY };
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    cleanups.push(() => deleteUnder(s3.current, prefix.slice(0, -1)));

    // A producer that is not Ergon: plain objects of JSON lines.
    const producer = createS3Connector<{ n: number }>(options);
    await producer.start();
    const objects = Array.from({ length: MESSAGES / LINES }, (_, o) => o);
    const id = (n: number) =>
      `${prefix}batch-${String(Math.floor(n / LINES)).padStart(4, '0')}#${(n % LINES) + 1}`;
    for (let from = 0; from < objects.length; from += 25) {
      await Promise.all(
        objects
          .slice(from, from + 25)
          .map((o) =>
            producer.service.put(
              `${prefix}batch-${String(o).padStart(4, '0')}`,
              Array.from({ length: LINES }, (_, l) => `${JSON.stringify({ n: o * LINES + l })}\n`).join(''),
            ),
          ),
      );
    }

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

    const completed = () => new Set(lines(join(dir, 'completions.log'))).size;
    const left = async () => (await producer.service.listAll(prefix)).length;
    // A kill at every sixth of the run, round the processes, each replaced at once; the survivors
    // stop gracefully at the end.
    const { kills, seconds } = await runKillPipeline({
      processes: PROCESSES,
      kills: KILLS,
      total: MESSAGES,
      start: spawn,
      finished: async () => completed(),
      drained: async () => (await left()) === 0,
      left: async () => `${await left()} objects left`,
      timeoutMs: 240_000,
      pollMs: 200,
    });
    expect(kills).toBe(KILLS);

    // Every step's effect exactly once per transaction (one file per idempotency key).
    const effects = new Set(readdirSync(join(dir, 'effects')).map(decodeURIComponent));
    expect(effects.size).toBe(2 * MESSAGES);
    for (let i = 0; i < MESSAGES; i++) {
      expect(effects.has(`${id(i)}/first#0`), `${id(i)} first`).toBe(true);
      expect(effects.has(`${id(i)}/second#0`), `${id(i)} second`).toBe(true);
    }
    // Every flow completed, once, in the store.
    const store = await SqliteExecutionLog.open({ path: config.store });
    cleanups.push(() => store.close());
    const client = new Client({ store });
    expect(await countFlowStatuses(client)).toEqual({ completed: MESSAGES });
    // Nothing left under the prefix, nothing dead-lettered, everything moved under the done prefix.
    expect(await left()).toBe(0);
    expect(await producer.service.listAll(producer.options.deadLetterPrefix)).toEqual([]);
    expect((await producer.service.listAll(producer.options.donePrefix)).length).toBe(objects.length);
    await producer.stop();

    const runs = lines(join(dir, 'runs.log')).length;
    const completions = lines(join(dir, 'completions.log')).length;
    console.log(
      `pipeline: ${MESSAGES} transactions in ${seconds.toFixed(1)} s (${Math.round(MESSAGES / seconds)}/s) with ${KILLS} SIGKILLs; ` +
        `${runs - 2 * MESSAGES} step runs repeated after kills (effects still once), ` +
        `${completions - MESSAGES} transactions delivered again after their flow had finished`,
    );
  }, 300_000);
});
