// The whole pipeline under fire: 10,000 messages through an AMQP consumer
// task whose transactions run as durable flows on SQLite, in 3 consumer
// processes, 5 of which are SIGKILLed mid-run (each replaced at once). Every
// message's flow completes, every step's effect happens once per
// transaction, nothing stays unacked and nothing is dead-lettered.
import { fork } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTransaction } from '@ergon/core';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { countFileEffects, readFileEffects, runKillPipeline } from '@ergon/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createAmqpConnector } from '../src/index.js';
import { Admin, AMQP_URL, broker, uniqueQueue } from './support.js';

const MESSAGES = 10_000;
const PROCESSES = 3;
const KILLS = 5;
const WORKER = fileURLToPath(new URL('./fixtures/pipeline-worker.mjs', import.meta.url));
const admin = new Admin();
afterAll(() => admin.close());

describe.skipIf(!broker.available)('AMQP → consumer task → durable flows on SQLite', () => {
  it('10,000 messages, 3 processes, 5 SIGKILLs: every flow completes and every effect happens once', async () => {
    const queue = uniqueQueue('pipeline');
    const dir = await mkdtemp(join(tmpdir(), 'ergon-amqp-pipeline-'));
    const config = {
      db: join(dir, 'ergon.db'),
      attempts: join(dir, 'attempts.log'),
      effects: join(dir, 'effects'),
      amqp: { url: AMQP_URL, queue, prefetch: 50, connectionName: `ergon-test:${queue}` },
    };
    await mkdir(config.effects);
    const producer = createAmqpConnector<{ n: number }>({ url: AMQP_URL, queue });
    const spawn = () =>
      fork(WORKER, [], {
        execArgv: [],
        env: { ...process.env, ERGON_PIPELINE: JSON.stringify(config) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
    try {
      for (let from = 0; from < MESSAGES; from += 1000) {
        const batch = Array.from({ length: 1000 }, (_, i) =>
          createTransaction({ id: `pipeline-${from + i}`, payload: { n: from + i } }),
        );
        await producer.dispatchTransactions(batch);
      }
      await producer.stop();
      expect(await admin.readyCount(queue)).toBe(MESSAGES);

      // Kills at evenly spaced points of progress, round the processes, each replaced at once;
      // the survivors stop gracefully at the end.
      const { kills } = await runKillPipeline({
        processes: PROCESSES,
        kills: KILLS,
        total: MESSAGES,
        start: spawn,
        finished: () => countFileEffects(config.effects, '/b#0'),
        killAt: (k) => ((k + 1) * MESSAGES) / (KILLS + 2),
        timeoutMs: 100_000,
        pollMs: 100,
      });
      expect(kills).toBe(KILLS);

      expect(await admin.readyCount(queue), 'nothing left unacked or unconsumed').toBe(0);
      expect(await admin.readyCount(`${queue}.dead-letter`), 'nothing dead-lettered').toBe(0);

      // Every step's effect exactly once per transaction (keyed by flow and step).
      const effects = await readFileEffects(config.effects);
      expect(effects.size).toBe(MESSAGES * 2);
      for (let n = 0; n < MESSAGES; n++) {
        for (const step of ['a', 'b']) expect(effects.has(`pipeline-${n}/${step}#0`)).toBe(true);
      }
      // Every flow completed, once, with its own result.
      const store = await SqliteExecutionLog.open({ path: config.db });
      try {
        const client = new Client({ store });
        for (let n = 0; n < MESSAGES; n++) {
          const info = await client.get(`pipeline-${n}`, { history: false });
          expect(info.status).toBe('completed');
        }
        expect(await client.result(`pipeline-${MESSAGES - 1}`)).toBe(MESSAGES - 1);
      } finally {
        await store.close();
      }
      const attempts = (await readFile(config.attempts, 'utf8')).split('\n').filter(Boolean).length;
      // Steps cut short by a kill ran again (at least once), but their effects did not repeat.
      expect(attempts).toBeGreaterThanOrEqual(MESSAGES * 2);
    } finally {
      await producer.stop();
      await admin.deleteQueues([queue, `${queue}.dead-letter`]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
