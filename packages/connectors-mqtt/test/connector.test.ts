// What the conformance suite does not cover, or skips for MQTT: acks that
// hold across a resumed session, user properties from a producer to a
// consumer group, the in-flight bound, requeues across the group, dead
// letters after maxDeliveries, a publisher-only connector, a session taken
// over, a failed start, and (on a private mosquitto) a broker restart.
import { randomBytes } from 'node:crypto';
import { createTransaction, ErrorCode, type Transaction } from '@ergon/core';
import { eventually, freePort, PrivateMosquitto, requireMosquitto } from '@ergon/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CreateMqttConnectorOptions, createMqttConnector, type MqttConnector } from '../src/index.js';
import { DeadLetterCollector, endSessions, MQTT_URL, mosquitto, uniqueTopic } from './support.js';

type Payload = { n: number };
const tx = (n: number, metadata: Record<string, string> = {}) =>
  createTransaction({ id: `tx-${n}`, payload: { n }, metadata });
const ns = (txs: readonly Transaction<Payload>[]) => txs.map((t) => t.payload.n).sort((a, b) => a - b);

const cleanup: { connectors: MqttConnector<Payload>[]; sessions: Map<string, string> } = {
  connectors: [],
  sessions: new Map(),
};
afterEach(async () => {
  for (const c of cleanup.connectors.splice(0)) await c.stop();
  for (const [clientId, url] of cleanup.sessions) await endSessions(url, [clientId]);
  cleanup.sessions.clear();
});

function connector(options: CreateMqttConnectorOptions): MqttConnector<Payload> {
  const made = createMqttConnector<Payload>({ fetchWait: '200ms', reconnectPeriod: '100ms', ...options });
  if (options.clientId) cleanup.sessions.set(options.clientId, options.url);
  cleanup.connectors.push(made);
  return made;
}

async function fetchAll(
  c: MqttConnector<Payload>,
  count: number,
  ms = 5000,
): Promise<Transaction<Payload>[]> {
  const out: Transaction<Payload>[] = [];
  const deadline = Date.now() + ms;
  while (out.length < count && Date.now() < deadline)
    out.push(...(await c.fetchTransactions({ limit: count })));
  return out;
}

describe.skipIf(!mosquitto.available)('MqttConnector on Mosquitto', () => {
  const names = () => {
    const { topic, prefix } = uniqueTopic('connector');
    const member = (n: number) => ({ url: MQTT_URL, topic, group: 'g', clientId: `${prefix}-${n}` });
    return { topic, member };
  };

  it('delivers metadata and the W3C trace context in user properties from a producer to a group consumer', async () => {
    const { topic, member } = names();
    const consumer = connector(member(1));
    await consumer.start(); // the group's session exists before the publish
    const producer = connector({ url: MQTT_URL, topic });
    const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
    await producer.dispatchTransactions([
      tx(1, { traceparent, tracestate: 'ergon=mqtt', 'x-tenant': 'acme' }),
    ]);
    const [got] = await fetchAll(consumer, 1);
    expect(got?.id).toBe('tx-1');
    expect(got?.metadata).toMatchObject({ traceparent, tracestate: 'ergon=mqtt', 'x-tenant': 'acme' });
    await consumer.ack(got as Transaction<Payload>);
  });

  it('never delivers an acked transaction again, not even to the session resumed by another process', async () => {
    const { member } = names();
    const first = connector(member(1));
    await first.start();
    await first.dispatchTransactions([tx(1), tx(2), tx(3)]);
    const got = await fetchAll(first, 3);
    expect(ns(got)).toEqual([1, 2, 3]);
    await first.ack(got[0] as Transaction<Payload>);
    await first.stop();
    const resumed = connector(member(1));
    const again = await fetchAll(resumed, 3, 1500);
    expect(ns(again), 'the unacked two, again, with their ids').toEqual(ns(got.slice(1)));
    for (const t of again) await resumed.ack(t);
    await resumed.stop();
    const last = connector(member(1));
    expect(await fetchAll(last, 1, 800)).toEqual([]);
  });

  it('holds at most maxInFlight unsettled, and each settlement frees one place', async () => {
    const { member } = names();
    const c = connector({ ...member(1), maxInFlight: 4 });
    await c.start();
    await c.dispatchTransactions([1, 2, 3, 4, 5, 6].map((n) => tx(n)));
    const held = await fetchAll(c, 6, 1500);
    expect(held).toHaveLength(4);
    await c.ack(held[0] as Transaction<Payload>);
    expect(await fetchAll(c, 2, 800)).toHaveLength(1);
  });

  it('requeues by publishing again to the group, counting deliveries, and dead-letters past maxDeliveries', async () => {
    const { topic, member } = names();
    const collector = await DeadLetterCollector.start(MQTT_URL, `${topic}/dead-letter`);
    try {
      const c = connector({ ...member(1), maxDeliveries: 2 });
      await c.start();
      await c.dispatchTransactions([tx(1)]);
      const [first] = await fetchAll(c, 1);
      expect(first?.metadata['mqtt.deliveries']).toBe('1');
      await c.nack(first as Transaction<Payload>, { requeue: true });
      const [second] = await fetchAll(c, 1);
      expect(second?.id).toBe('tx-1');
      expect(second?.metadata['mqtt.deliveries']).toBe('2');
      await c.nack(second as Transaction<Payload>, { requeue: true });
      expect(await fetchAll(c, 1, 800)).toEqual([]);
      await eventually(() => collector.letters.length === 1, 5000, 'a dead letter');
      expect(collector.letters[0]).toMatchObject({
        id: 'tx-1',
        deliveries: 3,
        reason: { code: ErrorCode.CONNECTOR_ERROR },
      });
    } finally {
      await collector.stop();
    }
  });

  it('refuses to fetch on a connector without a group: it only publishes', async () => {
    const c = connector({ url: MQTT_URL, topic: uniqueTopic('publisher').topic });
    await expect(c.fetchTransactions({ limit: 1 })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
  });

  it('fails to start with CONNECTOR_ERROR saying what to check, and reports unhealthy', async () => {
    const c = createMqttConnector({ url: `mqtt://127.0.0.1:${await freePort()}`, topic: 'nowhere' });
    const error = await c.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.CONNECTOR_ERROR });
    expect(String((error as Error).message)).toMatch(/broker/);
    expect(await c.service.health()).toMatchObject({ healthy: false, detail: 'not started' });
  });
});

describe.runIf(requireMosquitto())('on a private mosquitto', () => {
  let broker: PrivateMosquitto;
  beforeAll(async () => {
    broker = await PrivateMosquitto.start();
  });
  afterAll(() => broker?.stop());

  it('while the broker is down health says so; after its restart nothing acked comes back and nothing unacked is lost', async () => {
    const { topic, prefix } = uniqueTopic('restart');
    const options = { url: broker.url, topic, group: 'g', clientId: `${prefix}-1` };
    const c = connector(options);
    await c.start();
    await c.dispatchTransactions([1, 2, 3, 4].map((n) => tx(n)));
    const held = await fetchAll(c, 2);
    await c.ack(held[0] as Transaction<Payload>);
    // A restart, not a crash: Mosquitto saves its state on shutdown (and every
    // autosave_interval; a SIGKILL loses what came after the last save).
    await broker.kill('SIGTERM');
    await eventually(async () => !(await c.service.health()).healthy, 5000, 'unhealthy');
    expect((await c.service.health()).detail).toMatch(/lost/);
    await broker.spawn();
    await eventually(async () => (await c.service.health()).healthy, 10_000, 'healthy again');
    await c.dispatchTransactions([tx(5)]);
    const rest: Transaction<Payload>[] = [];
    const seen = () => new Set([...ns(rest), ...ns(held.slice(1))]);
    const deadline = Date.now() + 10_000;
    while (seen().size < 4 && Date.now() < deadline) rest.push(...(await c.fetchTransactions({ limit: 10 })));
    expect([...seen()].sort()).toEqual([2, 3, 4, 5]);
    expect(ns(rest), 'the acked one does not come back').not.toContain(1);
    for (const t of rest) await c.ack(t);
  });
});
