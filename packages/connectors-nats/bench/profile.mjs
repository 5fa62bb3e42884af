/**
 * The `connector-nats` bench row's two sides, many rounds, in one process:
 * a no-op consumer task over the connector, and the raw @nats-io/jetstream
 * `consume()` loop (100 outstanding, JSON parse, ack each). Prints wall rate
 * and this process's CPU µs per message of each round. Run it under
 * `node --cpu-prof` to see where the consumer task's time goes.
 *
 *   node bench/profile.mjs [--rounds 10] [--messages 20000] [--only ergon|raw|connector|raw,ergon,…] [--prof DIR]
 *
 * `IN_FLIGHT=n` sets the connector's maxInFlight (default 100, the task's
 * concurrency; the bench row gives it 200), `BATCH=n` the concurrency, batch
 * and the raw side's max_messages. `--prof DIR` writes a CPU profile (100 µs
 * samples) of each side's consuming from round 2 on, the fills left out.
 *
 * Under callgrind, `--callgrind <n>` counts the instructions of this
 * process's main thread in the rounds from round n on, per message:
 *
 *   valgrind --tool=callgrind --separate-threads=yes node bench/profile.mjs \
 *     --only ergon --messages 5000 --rounds 6 --callgrind 4
 */
import { ConsumerPolicy, consumer, runTask } from '@ergon/tasks';
import { AckPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import { createNatsConnector } from '../dist/index.js';
import { profileArgs, runRounds } from './rounds.mjs';

const URL = process.env.ERGON_NATS_URL ?? 'nats://127.0.0.1:4222';
const args = profileArgs();
const BATCH = args.batch;

const admin = await connect({ servers: URL });
const jsm = await jetstreamManager(admin, { timeout: 120_000 });
let serial = 0;

async function fill(count) {
  const stream = `ERGON_PROF_${process.pid}_${serial++}`;
  await jsm.streams.add({ name: stream, subjects: [stream.toLowerCase()], storage: StorageType.File });
  await jsm.consumers.add(stream, {
    durable_name: 'ergon',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 10_000,
  });
  const js = jetstream(admin, { timeout: 120_000 });
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

async function drop(stream) {
  for (const name of [stream, `${stream}_DEAD_LETTER`]) await jsm.streams.delete(name).catch(() => undefined);
}

async function raw(stream, count) {
  const t0 = performance.now();
  const nc = await connect({ servers: URL });
  try {
    const messages = await (await jetstream(nc).consumers.get(stream, 'ergon')).consume({
      max_messages: BATCH,
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

const input = (stream) =>
  createNatsConnector({
    url: URL,
    stream,
    subject: stream.toLowerCase(),
    maxInFlight: Number(process.env.IN_FLIGHT ?? BATCH),
    fetchWait: '100ms',
  });

async function ergon(stream, count) {
  const t0 = performance.now();
  let doneAt = 0;
  let acked = 0;
  const task = consumer({
    name: 'prof-nats',
    connectors: { input: input(stream) },
    policies: { consumer: new ConsumerPolicy({ concurrency: BATCH, batchSize: BATCH, limit: count }) },
    processTransaction: async () => undefined,
  });
  await runTask(task, {
    handleSignals: false,
    onOutcome: (o) => {
      if (o.settlement === 'ack' && ++acked === count) doneAt = performance.now();
    },
  });
  if (acked !== count) throw new Error(`only ${acked} acked`);
  return doneAt - t0;
}

/** The connector without the runner: fetch a batch, ack each, fetch again. */
async function connector(stream, count) {
  const t0 = performance.now();
  const c = input(stream);
  await c.start();
  let acked = 0;
  let acks = [];
  while (acked < count) {
    const batch = await c.fetchTransactions({ limit: Math.min(BATCH, count - acked) });
    await Promise.all(acks);
    acks = batch.map((tx) => c.ack(tx));
    acked += batch.length;
  }
  await Promise.all(acks);
  const ms = performance.now() - t0;
  await c.stop();
  return ms;
}

try {
  await runRounds({ args, fill, drop, sides: { raw, ergon, connector } });
} finally {
  await admin.close();
}
