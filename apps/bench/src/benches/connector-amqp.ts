/**
 * Consuming from RabbitMQ: messages/s fetched, run through a no-op consumer
 * task and acked (`@ergon/connectors-amqp` under `@ergon/tasks`' runner),
 * beside a raw amqplib consumer that parses each JSON body and acks it, with
 * the same prefetch, on queues of the same size, in the same run. After an
 * untimed warm-up of both (the JIT, the broker's queue processes), each side
 * runs three times, alternating; the best run of each is reported (the
 * broker shares the machine's cores, so other load only ever slows a run).
 *
 * @module
 */
import { createAmqpConnector } from '@ergon/connectors-amqp';
import { ConsumerPolicy, consumer } from '@ergon/tasks';
import { connect } from 'amqplib';
import type { Bench, BenchContext } from '../lib/bench.js';
import { makeRow } from '../lib/results.js';
import { uniqueName } from '../lib/services.js';
import { alternateRounds, roundExtras, roundLog, timeAcks } from './connector-rounds.js';

const AMQP_URL = process.env.ERGON_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const PREFETCH = 100;
const MESSAGES = { full: 20_000, quick: 5000, smoke: 300 } as const;

/** Fills `queue` with `count` small JSON messages (with message ids), confirmed. */
async function fill(queue: string, count: number): Promise<void> {
  const model = await connect(AMQP_URL);
  try {
    const channel = await model.createConfirmChannel();
    // Declared as the connector declares it, so both sides consume the same kind of queue.
    const deadLetter = { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${queue}.dead-letter` };
    await channel.assertQueue(queue, { durable: true, arguments: deadLetter });
    for (let n = 0; n < count; n++) {
      const body = Buffer.from(JSON.stringify({ n, sku: 'A-1', quantity: 2 }));
      const options = { messageId: `m-${n}`, contentType: 'application/json', persistent: true };
      if (!channel.publish('', queue, body, options)) await new Promise((r) => channel.once('drain', r));
    }
    await channel.waitForConfirms();
  } finally {
    await model.close();
  }
}

async function deleteQueues(queues: readonly string[]): Promise<void> {
  const model = await connect(AMQP_URL);
  try {
    const channel = await model.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
  } finally {
    await model.close();
  }
}

/** The raw client: connect, prefetch, consume; parse and ack each; ms until `count` acked. */
async function raw(queue: string, count: number): Promise<number> {
  const t0 = performance.now();
  const model = await connect(AMQP_URL);
  try {
    const channel = await model.createChannel();
    await channel.prefetch(PREFETCH);
    let acked = 0;
    await new Promise<void>((resolve, reject) => {
      channel
        .consume(queue, (message) => {
          if (!message) return reject(new Error('consumer cancelled'));
          JSON.parse(message.content.toString('utf8'));
          channel.ack(message);
          if (++acked === count) resolve();
        })
        .catch(reject);
    });
    return performance.now() - t0;
  } finally {
    await model.close();
  }
}

/** Ergon: a no-op consumer task over the AMQP connector; ms until `count` transactions were acked. */
async function ergon(queue: string, count: number): Promise<number> {
  const t0 = performance.now();
  const task = consumer({
    name: 'bench-amqp',
    connectors: {
      input: createAmqpConnector({ url: AMQP_URL, queue, prefetch: PREFETCH, fetchWait: '100ms' }),
    },
    policies: {
      consumer: new ConsumerPolicy({ concurrency: PREFETCH, batchSize: PREFETCH, limit: count }),
    },
    processTransaction: async () => undefined,
  });
  return timeAcks(task, count, t0);
}

export const connectorAmqp: Bench = {
  id: 'connector-amqp',
  rows: [{ name: 'connector-amqp', unit: 'messages/s', better: 'higher' }],
  run: async (context: BenchContext) => {
    const count = MESSAGES[context.mode];
    const queues: string[] = [];
    const side = (consume: (queue: string, n: number) => Promise<number>) => ({
      fill: async (n: number, label: string) => {
        const name = uniqueName(`amqp-${label}`);
        queues.push(name, `${name}.dead-letter`);
        await fill(name, n);
        return name;
      },
      consume,
    });
    try {
      // Three warm-up rounds of each side (see connector-rounds.ts), as the other broker rows: after
      // one, the Ergon side's CPU a message still fell from timed run to timed run (31.4 -> 17.5 ->
      // 15.8 µs in one quick run, 26.3 -> 15.6 -> 12.8 in another).
      const rates = await alternateRounds({ raw: side(raw), ergon: side(ergon) }, count, count, 3);
      context.log(roundLog(rates, 'amqplib'));
      return [
        makeRow('connector-amqp', {
          unit: 'messages/s',
          better: 'higher',
          ergon: Math.max(...rates.ergon),
          peer: 'raw amqplib consumer',
          peerValue: Math.max(...rates.raw),
          extra: { size: count, prefetch: PREFETCH, concurrency: PREFETCH, ...roundExtras(rates) },
        }),
      ];
    } finally {
      await deleteQueues(queues);
    }
  },
};
