// The whole pipeline under fire: 10,000 messages through an MQTT consumer
// task whose transactions run as durable flows on SQLite, in 3 consumer
// processes (3 sessions of one shared subscription), 5 of which are
// SIGKILLed mid-run, each replaced at once by a process with the killed
// one's client id, which resumes its session: the broker sends again what
// it held unacked. Every message's flow completes, every step's effect
// happens once per transaction, nothing is left unacked and nothing is
// dead-lettered. On a private mosquitto without a queue limit (the shared
// one drops QoS 1 messages past max_queued_messages, 1000 by default).
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTransaction } from '@ergon/core';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMqttConnector } from '../src/index.js';
import { PrivateMosquitto, requireMosquitto } from './mosquitto.js';
import { DeadLetterCollector, uniqueTopic } from './support.js';

const MESSAGES = 10_000;
const PROCESSES = 3;
const KILLS = 5;
const WORKER = fileURLToPath(new URL('./fixtures/pipeline-worker.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
    const workers = new Map<ChildProcess, string>();
    const spawn = (slot: string) => {
      const child = fork(WORKER, [slot], {
        execArgv: [],
        env: { ...process.env, ERGON_PIPELINE: JSON.stringify(config) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      workers.set(child, slot);
      child.once('exit', () => workers.delete(child));
      return child;
    };
    try {
      for (let from = 0; from < MESSAGES; from += 1000) {
        const batch = Array.from({ length: 1000 }, (_, i) =>
          createTransaction({ id: `pipeline-${from + i}`, payload: { n: from + i } }),
        );
        await producer.dispatchTransactions(batch);
      }
      await producer.stop();

      for (const slot of slots) spawn(slot);
      const effectsOfB = async () =>
        (await readdir(config.effects)).filter((f) => f.endsWith('%2Fb%230')).length;
      // Kill the oldest process at evenly spaced points of progress, replacing it at once (same client id).
      let kills = 0;
      const deadline = Date.now() + 240_000;
      for (;;) {
        const done = await effectsOfB();
        if (done >= MESSAGES) break;
        if (Date.now() > deadline) throw new Error(`only ${done} of ${MESSAGES} flows finished in time`);
        if (kills < KILLS && done >= ((kills + 1) * MESSAGES) / (KILLS + 2)) {
          const [victim] = workers.keys();
          const slot = victim ? workers.get(victim) : undefined;
          if (victim && slot) {
            victim.kill('SIGKILL');
            await once(victim, 'exit');
            kills++;
            spawn(slot);
          }
        }
        await sleep(100);
      }
      expect(kills).toBe(KILLS);

      // Graceful stop of the survivors; then every session, resumed, holds nothing: all was acked.
      const exits = [...workers.keys()].map((child) => once(child, 'exit'));
      for (const child of workers.keys()) child.kill('SIGTERM');
      await Promise.all(exits);
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
      const effects = new Set(await readdir(config.effects));
      expect(effects.size).toBe(MESSAGES * 2);
      for (let n = 0; n < MESSAGES; n++) {
        for (const step of ['a', 'b'])
          expect(effects.has(encodeURIComponent(`pipeline-${n}/${step}#0`))).toBe(true);
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
      for (const child of workers.keys()) child.kill('SIGKILL');
      await producer.stop();
      await collector.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
