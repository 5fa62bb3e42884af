/**
 * Consuming from NATS JetStream: messages/s fetched, run through a no-op
 * consumer task and acked (`@ergon/connectors-nats` under `@ergon/tasks`'
 * runner), beside a raw `@nats-io/jetstream` consumer (`consume()` with the
 * same number of messages outstanding) that parses each JSON payload and
 * acks it, on streams of the same size, in the same run (see
 * `connector-rounds.ts`).
 *
 * "Outstanding" is what each side has asked the server for and not yet
 * received: `consume()` keeps 100 requested beside the one it is
 * processing, while the connector's `maxInFlight` bounds requested,
 * buffered and unsettled messages together. With `maxInFlight` 100 and a
 * task that holds a batch of 100 until it is acked, nothing was requested
 * while a batch was processed and its acks confirmed: each batch waited a
 * pull's round trip that the raw loop never waits. So the connector gets
 * room for 100 requested beside the 100 its task processes at once.
 *
 * @module
 */
import { createNatsConnector } from '@ergon/connectors-nats';
import { ConsumerPolicy, consumer } from '@ergon/tasks';
import { AckPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import type { Bench, BenchContext } from '../lib/bench.js';
import { makeRow } from '../lib/results.js';
import { uniqueName } from '../lib/services.js';
import { alternateRounds, type ConnectorSide, roundExtras, roundLog, timeAcks } from './connector-rounds.js';

const NATS_URL = process.env.ERGON_NATS_URL ?? 'nats://127.0.0.1:4222';
/** Messages requested from the server and not received yet, on both sides. */
const IN_FLIGHT = 100;
/** Transactions the consumer task processes at once (the raw loop: one at a time, synchronously). */
const CONCURRENCY = 100;
const MESSAGES = { full: 20_000, quick: 5000, smoke: 300 } as const;

/** A stream (file storage, as the connector declares it) with its durable consumer, holding `count` messages. */
async function fill(nc: NatsConnection, streams: string[], count: number, label: string): Promise<string> {
  const stream = uniqueName(`nats-${label}`).replace(/-/g, '_').toUpperCase();
  streams.push(stream, `${stream}_DEAD_LETTER`);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [stream.toLowerCase()], storage: StorageType.File });
  await jsm.consumers.add(stream, {
    durable_name: 'ergon',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 10_000,
  });
  const js = jetstream(nc);
  for (let from = 0; from < count; from += 500) {
    const batch = [];
    for (let n = from; n < Math.min(count, from + 500); n++) {
      const h = headers();
      h.set('Nats-Msg-Id', `m-${n}`);
      batch.push(
        js.publish(stream.toLowerCase(), JSON.stringify({ n, sku: 'A-1', quantity: 2 }), { headers: h }),
      );
    }
    await Promise.all(batch);
  }
  return stream;
}

/** The raw client: `consume()` on the durable consumer; parse and ack each; ms until `count` acked. */
async function raw(stream: string, count: number): Promise<number> {
  const t0 = performance.now();
  const nc = await connect({ servers: NATS_URL });
  try {
    const messages = await (await jetstream(nc).consumers.get(stream, 'ergon')).consume({
      max_messages: IN_FLIGHT,
    });
    let acked = 0;
    for await (const message of messages) {
      message.json();
      message.ack();
      if (++acked === count) break;
    }
    await nc.flush();
    return performance.now() - t0;
  } finally {
    await nc.close();
  }
}

/** Ergon: a no-op consumer task over the NATS connector; ms until `count` transactions were acked. */
async function ergon(stream: string, count: number): Promise<number> {
  const t0 = performance.now();
  const task = consumer({
    name: 'bench-nats',
    connectors: {
      input: createNatsConnector({
        url: NATS_URL,
        stream,
        subject: stream.toLowerCase(),
        maxInFlight: IN_FLIGHT + CONCURRENCY,
        fetchWait: '100ms',
      }),
    },
    policies: {
      consumer: new ConsumerPolicy({ concurrency: CONCURRENCY, batchSize: CONCURRENCY, limit: count }),
    },
    processTransaction: async () => undefined,
  });
  return timeAcks(task, count, t0);
}

export const connectorNats: Bench = {
  id: 'connector-nats',
  rows: [{ name: 'connector-nats', unit: 'messages/s', better: 'higher' }],
  run: async (context: BenchContext) => {
    const count = MESSAGES[context.mode];
    const nc = await connect({ servers: NATS_URL });
    const streams: string[] = [];
    try {
      const side = (consume: ConnectorSide['consume']): ConnectorSide => ({
        fill: (n, label) => fill(nc, streams, n, label),
        consume,
      });
      // Three warm-up rounds of each side (see connector-rounds.ts): the timed runs measure warm code.
      const rates = await alternateRounds({ raw: side(raw), ergon: side(ergon) }, count, count, 3);
      context.log(roundLog(rates, '@nats-io/jetstream'));
      return [
        makeRow('connector-nats', {
          unit: 'messages/s',
          better: 'higher',
          ergon: Math.max(...rates.ergon),
          peer: 'raw @nats-io/jetstream consume()',
          peerValue: Math.max(...rates.raw),
          extra: {
            size: count,
            inFlight: IN_FLIGHT,
            concurrency: CONCURRENCY,
            maxInFlight: IN_FLIGHT + CONCURRENCY,
            ...roundExtras(rates),
          },
        }),
      ];
    } finally {
      const jsm = await jetstreamManager(nc);
      for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
  },
};
