// The whole pipeline under fire: 10,000 messages through a NATS consumer
// task whose transactions run as durable flows on SQLite, in 3 consumer
// processes, 5 of which are SIGKILLed mid-run (each replaced at once; what a
// killed process held comes back after the ack wait). Every message's flow
// completes, every step's effect happens once per transaction, nothing
// stays unacked and nothing is dead-lettered.
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
import { createNatsConnector } from '../src/index.js';
import { Admin, NATS_URL, nats, storedMessages, uniqueNames } from './support.js';

const MESSAGES = 10_000;
const PROCESSES = 3;
const KILLS = 5;
const WORKER = fileURLToPath(new URL('./fixtures/pipeline-worker.mjs', import.meta.url));
const admin = new Admin();
afterAll(() => admin.close());

describe.skipIf(!nats.available)('NATS JetStream → consumer task → durable flows on SQLite', () => {
  it('10,000 messages, 3 processes, 5 SIGKILLs: every flow completes and every effect happens once', async () => {
    const { stream, subject } = uniqueNames('pipeline');
    const dir = await mkdtemp(join(tmpdir(), 'ergon-nats-pipeline-'));
    const config = {
      db: join(dir, 'ergon.db'),
      attempts: join(dir, 'attempts.log'),
      effects: join(dir, 'effects'),
      nats: { url: NATS_URL, stream, subject, ackWait: '3s', maxInFlight: 48, storage: 'memory' },
    };
    await mkdir(config.effects);
    const producer = createNatsConnector<{ n: number }>(
      config.nats as Parameters<typeof createNatsConnector>[0],
    );
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
      expect(await admin.pending(stream)).toBe(MESSAGES);

      // Kills at evenly spaced points of progress, round the processes, each replaced at once;
      // the survivors stop gracefully at the end (they drain, give back what they hold, and close).
      const { kills } = await runKillPipeline({
        processes: PROCESSES,
        kills: KILLS,
        total: MESSAGES,
        start: spawn,
        finished: () => countFileEffects(config.effects, '/b#0'),
        killAt: (k) => ((k + 1) * MESSAGES) / (KILLS + 2),
        timeoutMs: 240_000,
        pollMs: 100,
      });
      expect(kills).toBe(KILLS);

      const info = await admin.consumerInfo(stream);
      expect(info.num_pending, 'nothing left unconsumed').toBe(0);
      expect(info.num_ack_pending, 'nothing left unacked').toBe(0);
      expect(await storedMessages(admin, `${stream}_DEAD_LETTER`), 'nothing dead-lettered').toHaveLength(0);

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
          const flowInfo = await client.get(`pipeline-${n}`, { history: false });
          expect(flowInfo.status).toBe('completed');
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
      await admin.deleteStreams([stream, `${stream}_DEAD_LETTER`]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
