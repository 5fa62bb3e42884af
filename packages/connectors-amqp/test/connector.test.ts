// What the conformance suite does not cover: topology from options, the
// ergon body format on the wire, unroutable publishes, and a failed start.
import { createTransaction, ErrorCode } from '@ergon/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type AmqpConnector, createAmqpConnector, type CreateAmqpConnectorOptions } from '../src/index.js';
import { Admin, AMQP_URL, broker, uniqueQueue } from './support.js';

const admin = new Admin();
const cleanup: { connectors: AmqpConnector[]; queues: string[] } = { connectors: [], queues: [] };
afterEach(async () => {
  for (const connector of cleanup.connectors.splice(0)) await connector.stop();
  await admin.deleteQueues(cleanup.queues.splice(0));
});
afterAll(() => admin.close());

function connector<P>(options: Partial<CreateAmqpConnectorOptions> = {}): AmqpConnector<P> {
  const queue = options.queue ?? uniqueQueue('connector');
  cleanup.queues.push(queue, options.deadLetterQueue ?? `${queue}.dead-letter`);
  const made = createAmqpConnector<P>({ url: AMQP_URL, queue, fetchWait: '200ms', ...options });
  cleanup.connectors.push(made as AmqpConnector);
  return made;
}

describe.skipIf(!broker.available)('AmqpConnector on RabbitMQ', () => {
  it('declares a named exchange, routing key and dead-letter exchange, and routes through them', async () => {
    const queue = uniqueQueue('routed');
    const exchange = `${queue}.x`;
    const deadLetterExchange = `${queue}.dlx`;
    const c = connector<{ n: number }>({
      queue,
      exchange,
      exchangeType: 'topic',
      routingKey: 'orders.#',
      deadLetterExchange,
    });
    await c.start();
    await c.dispatchTransactions([createTransaction({ id: 'o-1', payload: { n: 1 } })]);
    const [tx] = await c.fetchTransactions({ limit: 1 });
    expect(tx?.payload).toEqual({ n: 1 });
    await c.nack(tx as NonNullable<typeof tx>, { requeue: false, reason: new Error('no stock') });
    const letters = await c.readDeadLetters();
    expect(letters).toMatchObject([{ id: 'o-1', reason: { message: 'no stock' }, queue }]);
    await admin.channel(async (ch) => {
      await ch.deleteExchange(exchange);
      await ch.deleteExchange(deadLetterExchange);
    });
  });

  it('carries Dates and Maps on the wire with the ergon format', async () => {
    const c = connector<{ at: Date; tags: Map<string, number> }>({ format: 'ergon' });
    await c.dispatchTransactions([
      createTransaction({ id: 'e-1', payload: { at: new Date(5), tags: new Map([['a', 1]]) } }),
    ]);
    const [tx] = await c.fetchTransactions({ limit: 1 });
    expect(tx?.payload.at).toEqual(new Date(5));
    expect(tx?.payload.tags.get('a')).toBe(1);
    await c.ack(tx as NonNullable<typeof tx>);
  });

  it('rejects an unroutable dispatch with CONNECTOR_ERROR instead of losing it', async () => {
    const queue = uniqueQueue('unroutable');
    const exchange = `${queue}.x`;
    const c = connector({ queue, exchange, routingKey: 'bound' });
    await c.start();
    const stray = createAmqpConnector({
      url: AMQP_URL,
      queue,
      exchange,
      routingKey: 'not-bound',
      declare: false,
    });
    cleanup.connectors.push(stray);
    await expect(
      stray.dispatchTransactions([createTransaction({ id: 's-1', payload: 1 })]),
    ).rejects.toMatchObject({
      code: ErrorCode.CONNECTOR_ERROR,
      message: expect.stringContaining('unroutable'),
    });
    await admin.channel((ch) => ch.deleteExchange(exchange));
  });

  it('fails to start with CONNECTOR_ERROR saying what to check, and reports unhealthy', async () => {
    const c = createAmqpConnector({ url: 'amqp://guest:wrong@127.0.0.1:5672', queue: uniqueQueue('auth') });
    const error = await c.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.CONNECTOR_ERROR });
    expect(String((error as Error).message)).not.toContain('wrong');
    expect(await c.service.health()).toMatchObject({ healthy: false, detail: 'not started' });
  });
});
