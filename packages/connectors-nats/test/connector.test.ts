// What the conformance suite does not cover: dead letters after
// maxDeliveries, the requeue delay, in-progress acks of a long transaction,
// de-duplication on publish, a failed start, and (on a private nats-server)
// a server that dies and comes back.
import { createTransaction, ErrorCode, type Transaction } from '@ergon/core';
import { eventually, freePort, PrivateNatsServer, requireNatsServer } from '@ergon/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CreateNatsConnectorOptions, createNatsConnector, type NatsConnector } from '../src/index.js';
import { Admin, NATS_URL, nats, uniqueNames } from './support.js';

type Payload = { n: number };
const tx = (n: number) => createTransaction({ id: `tx-${n}`, payload: { n } });
const ns = (txs: readonly Transaction<Payload>[]) => txs.map((t) => t.payload.n).sort((a, b) => a - b);

const admin = new Admin();
const cleanup: { connectors: NatsConnector<Payload>[]; streams: string[] } = { connectors: [], streams: [] };
afterEach(async () => {
  for (const c of cleanup.connectors.splice(0)) await c.stop();
  await admin.deleteStreams(cleanup.streams.splice(0));
});
afterAll(() => admin.close());

function connector(options: Partial<CreateNatsConnectorOptions> = {}): NatsConnector<Payload> {
  const names = uniqueNames('connector');
  const made = createNatsConnector<Payload>({
    url: NATS_URL,
    ...names,
    storage: 'memory',
    fetchWait: '200ms',
    ...options,
  });
  cleanup.streams.push(made.service.options.stream, made.service.options.deadLetterStream);
  cleanup.connectors.push(made);
  return made;
}

async function fetchAll(
  c: NatsConnector<Payload>,
  count: number,
  ms = 10_000,
): Promise<Transaction<Payload>[]> {
  const out: Transaction<Payload>[] = [];
  const deadline = Date.now() + ms;
  while (out.length < count && Date.now() < deadline)
    out.push(...(await c.fetchTransactions({ limit: count })));
  return out;
}

describe.skipIf(!nats.available)('NatsConnector on NATS JetStream', () => {
  it('dead-letters a message delivered more than maxDeliveries times and ends its deliveries', async () => {
    const c = connector({ maxDeliveries: 2 });
    await c.dispatchTransactions([tx(1)]);
    for (let i = 0; i < 2; i++) {
      const [got] = await fetchAll(c, 1);
      expect(got?.metadata['nats.deliveries']).toBe(String(i + 1));
      await c.nack(got as Transaction<Payload>, { requeue: true });
    }
    expect(await fetchAll(c, 1, 1500)).toEqual([]);
    const [letter, ...more] = await c.readDeadLetters();
    expect(more).toEqual([]);
    expect(letter).toMatchObject({ id: 'tx-1', payload: { n: 1 }, deliveries: 3 });
    expect(letter?.reason.code).toBe(ErrorCode.CONNECTOR_ERROR);
    expect(letter?.reason.message).toContain('maxDeliveries');
    const info = await admin.consumerInfo(c.service.options.stream);
    expect(info.num_ack_pending + info.num_pending).toBe(0);
  });

  it('delivers a requeued message again only after requeueDelay', async () => {
    const c = connector({ requeueDelay: '1500ms' });
    await c.dispatchTransactions([tx(1)]);
    const [first] = await fetchAll(c, 1);
    const nacked = Date.now();
    await c.nack(first as Transaction<Payload>, { requeue: true });
    const [again] = await fetchAll(c, 1);
    expect(Date.now() - nacked).toBeGreaterThanOrEqual(1300);
    expect(again?.id).toBe('tx-1');
    await c.ack(again as Transaction<Payload>);
  });

  it('keeps a transaction held past its ack wait with in-progress acks, so nobody else gets it', async () => {
    const holder = connector({ ackWait: '600ms' });
    const { stream, subject } = holder.service.options;
    await holder.dispatchTransactions([tx(1)]);
    const [held] = await fetchAll(holder, 1);
    const other = createNatsConnector<Payload>({
      url: NATS_URL,
      stream,
      subject,
      ackWait: '600ms',
      fetchWait: '200ms',
    });
    cleanup.connectors.push(other);
    expect(await fetchAll(other, 1, 2500)).toEqual([]);
    await holder.ack(held as Transaction<Payload>);
    expect(await fetchAll(other, 1, 1000)).toEqual([]);
  });

  it('stores a message dispatched twice with the same id once (Nats-Msg-Id de-duplication)', async () => {
    const c = connector();
    await c.dispatchTransactions([tx(1), tx(2)]);
    await c.dispatchTransactions([tx(1)]);
    expect(await admin.pending(c.service.options.stream)).toBe(2);
    const got = await fetchAll(c, 3, 1500);
    expect(ns(got)).toEqual([1, 2]);
    for (const t of got) await c.ack(t);
  });

  it('fails to start with CONNECTOR_ERROR saying what to check, and reports unhealthy', async () => {
    const c = createNatsConnector({
      url: `nats://127.0.0.1:${await freePort()}`,
      stream: 'NOWHERE',
      subject: 'nowhere',
    });
    const error = await c.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.CONNECTOR_ERROR });
    expect(String((error as Error).message)).toMatch(/nats-server running/);
    expect(await c.service.health()).toMatchObject({ healthy: false, detail: 'not started' });
  });
});

describe.runIf(requireNatsServer())('on a private nats-server', () => {
  let server: PrivateNatsServer;
  beforeAll(async () => {
    server = await PrivateNatsServer.start();
  });
  afterAll(async () => {
    for (const c of cleanup.connectors.splice(0)) await c.stop();
    await server?.stop();
  });

  it('while the server is down health says so; after its restart nothing acked comes back and nothing unacked is lost', async () => {
    const names = uniqueNames('restart');
    const c = createNatsConnector<Payload>({
      url: server.url,
      ...names,
      storage: 'file',
      ackWait: '2s',
      fetchWait: '200ms',
      reconnectWait: '100ms',
    });
    cleanup.connectors.push(c);
    await c.dispatchTransactions([1, 2, 3, 4].map(tx));
    const held = await fetchAll(c, 2);
    await c.ack(held[0] as Transaction<Payload>);
    // JetStream writes a consumer's ack state a moment after the ack: a server
    // killed within it delivers the message again (at least once, as documented).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await server.kill();
    await eventually(async () => !(await c.service.health()).healthy, 5000);
    expect((await c.service.health()).detail).toMatch(/lost/);
    await server.spawn();
    await eventually(async () => (await c.service.health()).healthy, 15_000);
    // A publish after the restart is acknowledged by the recovered stream.
    await c.dispatchTransactions([tx(5)]);
    // The unacked one held across the restart is still held (renewed) or delivered again: never lost.
    const rest: Transaction<Payload>[] = [];
    const seen = () => new Set([...ns(rest), ...ns(held.slice(1))]);
    const deadline = Date.now() + 20_000;
    while (seen().size < 4 && Date.now() < deadline) rest.push(...(await c.fetchTransactions({ limit: 10 })));
    expect([...seen()].sort()).toEqual([2, 3, 4, 5]);
    expect(ns(rest), 'the acked one does not come back').not.toContain(1);
    for (const t of rest) await c.ack(t);
    await c.ack(held[1] as Transaction<Payload>).catch(() => undefined);
  });
});
