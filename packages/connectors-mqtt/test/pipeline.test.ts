// The whole pipeline under fire: 10,000 messages through an MQTT consumer
// task whose transactions run as durable flows on SQLite, in 3 consumer
// processes (3 sessions of one shared subscription), 5 of which are
// SIGKILLed mid-run, each replaced at once by a process with the killed
// one's client id, which resumes its session: the broker sends again what
// it held unacked. Every message's flow completes, every step's effect
// happens once per transaction, nothing is left unacked and nothing is
// dead-lettered. On a private mosquitto without a queue limit (the shared
// one drops QoS 1 messages past max_queued_messages, 1000 by default).
import { fork } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTransaction } from '@ergon/core';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import {
  countFileEffects,
  PrivateMosquitto,
  readFileEffects,
  requireMosquitto,
  runKillPipeline,
} from '@ergon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMqttConnector } from '../src/index.js';
import { DeadLetterCollector, uniqueTopic } from './support.js';

const MESSAGES = 10_000;
const PROCESSES = 3;
const KILLS = 5;
const WORKER = fileURLToPath(new URL('./fixtures/pipeline-worker.mjs', import.meta.url));

describe.runIf(requireMosquitto())('MQTT → consumer task → durable flows on SQLite', () => {
  let broker: PrivateMosquitto;
  beforeAll(async () => {
    broker = await PrivateMosquitto.start();
  });
  afterAll(() => broker?.stop());

  it('10,000 messages, 3 processes, 5 SIGKILLs: every flow completes and every effect happens once', async () => {
    const { topic, prefix } = uniqueTopic('pipeline');
    const dir = await mkdtemp(join(tmpdir(), 'ergon-mqtt-pipeline-'));
    const mqtt = { url: broker.url, topic, group: 'pipeline', receiveMaximum: 48, sessionExpiry: '10m' };
    const config = {
      db: join(dir, 'ergon.db'),
      attempts: join(dir, 'attempts.log'),
      effects: join(dir, 'effects'),
      mqtt,
    };
    await mkdir(config.effects);
    const slots = Array.from({ length: PROCESSES }, (_, i) => `${prefix}-slot-${i}`);
    const collector = await DeadLetterCollector.start(broker.url, `${topic}/dead-letter`);
    // The group's sessions exist before anything is published: MQTT drops what no session subscribes to.
    for (const clientId of slots) {
      const member = createMqttConnector({ ...mqtt, clientId });
      await member.start();
      await member.stop();
    }
    const producer = createMqttConnector<{ n: number }>({ url: broker.url, topic });
    const spawn = (slot: number) =>
      fork(WORKER, [slots[slot] as string], {
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

      // Kills at evenly spaced points of progress, round the processes, each replaced at once (same client id);
      // the survivors stop gracefully at the end.
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

      // Every session, resumed, holds nothing: all was acked.
      for (const clientId of slots) {
        const member = createMqttConnector({ ...mqtt, clientId, fetchWait: '300ms' });
        try {
          expect(await member.fetchTransactions({ limit: 100 }), `session ${clientId} holds nothing`).toEqual(
            [],
          );
        } finally {
          await member.stop();
        }
      }
      expect(collector.letters, 'nothing dead-lettered').toEqual([]);

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
      await collector.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
