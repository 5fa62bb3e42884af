/**
 * Consuming from MQTT: messages/s delivered to a session of a shared
 * subscription, run through a no-op consumer task and acked
 * (`@ergon/connectors-mqtt` under `@ergon/tasks`' runner: PUBACK deferred
 * until settled), beside a raw mqtt.js client on the same kind of session
 * (same Receive Maximum) that parses each JSON payload and lets mqtt.js
 * PUBACK it, in the same run (see `connector-rounds.ts`). On a private
 * mosquitto without a queue limit (the shared one drops QoS 1 messages past
 * 1000 queued per session), started from the binary on PATH and killed after.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMqttConnector } from '@ergon/connectors-mqtt';
import { ConsumerPolicy, consumer } from '@ergon/tasks';
import { connect, connectAsync } from 'mqtt';
import type { Bench, BenchContext } from '../lib/bench.js';
import { makeRow } from '../lib/results.js';
import { uniqueName } from '../lib/services.js';
import { alternateRounds, type ConnectorSide, roundExtras, roundLog, timeAcks } from './connector-rounds.js';

const IN_FLIGHT = 100;
const GROUP = 'bench';
const MESSAGES = { full: 20_000, quick: 5000, smoke: 300 } as const;

/** A mosquitto of the bench's own; resolves with its url and a stop function. */
async function privateMosquitto(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'ergon-bench-mosquitto-'));
  const config = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'max_queued_messages 0',
    'max_inflight_messages 0',
  ];
  writeFileSync(join(dir, 'mosquitto.conf'), `${config.join('\n')}\n`);
  const child: ChildProcess = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error('mosquitto (on PATH) did not start');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
  });
}

/** A session subscribed to a fresh topic's shared subscription, holding `count` messages; returns the topic. */
async function fill(url: string, count: number, label: string): Promise<string> {
  const topic = uniqueName(`mqtt-${label}`);
  const session = await connectAsync(url, {
    protocolVersion: 5,
    clientId: topic,
    clean: false,
    properties: { sessionExpiryInterval: 600 },
  });
  await session.subscribeAsync(`$share/${GROUP}/${topic}`, { qos: 1 });
  await session.endAsync();
  const publisher = await connectAsync(url, { protocolVersion: 5 });
  try {
    for (let from = 0; from < count; from += 500) {
      const batch = [];
      for (let n = from; n < Math.min(count, from + 500); n++) {
        const payload = JSON.stringify({ n, sku: 'A-1', quantity: 2 });
        batch.push(
          publisher.publishAsync(topic, payload, {
            qos: 1,
            properties: { userProperties: { 'ergon-id': `m-${n}` } },
          }),
        );
      }
      await Promise.all(batch);
    }
  } finally {
    await publisher.endAsync();
  }
  return topic;
}

/** Ends the session (the client id is the topic). */
async function endSession(url: string, topic: string): Promise<void> {
  const client = await connectAsync(url, {
    protocolVersion: 5,
    clientId: topic,
    clean: true,
    properties: { sessionExpiryInterval: 0 },
  });
  await client.endAsync();
}

/** The raw client: resume the session; parse each message, mqtt.js PUBACKs it; ms until `count` received. */
async function raw(url: string, topic: string, count: number): Promise<number> {
  const t0 = performance.now();
  const client = connect(url, {
    protocolVersion: 5,
    clientId: topic,
    clean: false,
    properties: { sessionExpiryInterval: 600, receiveMaximum: IN_FLIGHT },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let received = 0;
      client.on('error', reject);
      client.on('message', (_topic, payload) => {
        JSON.parse(payload.toString('utf8'));
        // The PUBACK goes out after this handler; the last one is flushed below.
        if (++received === count) resolve();
      });
    });
    await new Promise((resolve) => setImmediate(resolve));
    return performance.now() - t0;
  } finally {
    await client.endAsync();
    await endSession(url, topic);
  }
}

/** Ergon: a no-op consumer task over the MQTT connector on the same session; ms until `count` acked. */
async function ergon(url: string, topic: string, count: number): Promise<number> {
  const t0 = performance.now();
  const task = consumer({
    name: 'bench-mqtt',
    connectors: {
      input: createMqttConnector({
        url,
        topic,
        group: GROUP,
        clientId: topic,
        receiveMaximum: IN_FLIGHT,
        sessionExpiry: '10m',
        fetchWait: '100ms',
      }),
    },
    policies: {
      consumer: new ConsumerPolicy({ concurrency: IN_FLIGHT, batchSize: IN_FLIGHT, limit: count }),
    },
    processTransaction: async () => undefined,
  });
  try {
    return await timeAcks(task, count, t0);
  } finally {
    await endSession(url, topic);
  }
}

export const connectorMqtt: Bench = {
  id: 'connector-mqtt',
  rows: [{ name: 'connector-mqtt', unit: 'messages/s', better: 'higher' }],
  run: async (context: BenchContext) => {
    const count = MESSAGES[context.mode];
    const broker = await privateMosquitto();
    try {
      const side = (consume: (url: string, topic: string, n: number) => Promise<number>): ConnectorSide => ({
        fill: (n, label) => fill(broker.url, n, label),
        consume: (topic, n) => consume(broker.url, topic, n),
      });
      // Three warm-up rounds of each side (see connector-rounds.ts), as the Redis Streams, PostgreSQL
      // and NATS rows: after one round of 2,000 the Ergon side's CPU a message still fell from timed
      // run to timed run (22 -> 15 -> 10.5 µs in one), while the raw side's was flat from the second.
      const rates = await alternateRounds({ raw: side(raw), ergon: side(ergon) }, count, count, 3);
      context.log(roundLog(rates, 'mqtt.js'));
      return [
        makeRow('connector-mqtt', {
          unit: 'messages/s',
          better: 'higher',
          ergon: Math.max(...rates.ergon),
          peer: 'raw mqtt.js client (automatic PUBACK)',
          peerValue: Math.max(...rates.raw),
          extra: { size: count, receiveMaximum: IN_FLIGHT, concurrency: IN_FLIGHT, ...roundExtras(rates) },
        }),
      ];
    } finally {
      await broker.stop();
    }
  },
};
