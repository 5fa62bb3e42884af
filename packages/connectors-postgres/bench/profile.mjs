/**
 * The `connector-postgres` bench row's two sides, many rounds, in one
 * process: a no-op consumer task over the queue connector, and the raw pg
 * loop (the connector's claim of 100, JSON parse, its DELETE of the batch);
 * `connector` is the connector without the runner. Prints wall rate and this
 * process's CPU µs per message of each round; `--prof DIR` writes a CPU
 * profile of each side's consuming (fills left out). The rounds are the NATS
 * probe's (../../connectors-nats/bench/rounds.mjs).
 *
 *   node bench/profile.mjs [--rounds 10] [--messages 20000] [--only raw,ergon,connector] [--prof DIR]
 */
import { randomBytes } from 'node:crypto';
import { ConsumerPolicy, consumer, runTask } from '@ergon/tasks';
import pg from 'pg';
import { profileArgs, runRounds } from '../../connectors-nats/bench/rounds.mjs';
import { createPostgresQueue } from '../dist/index.js';

const URL = process.env.ERGON_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const args = profileArgs();
const BATCH = args.batch;
const admin = new pg.Pool({ connectionString: URL, max: 2 });

async function fill(count) {
  const schema = `ergon_prof_pg_${randomBytes(4).toString('hex')}`;
  const maker = createPostgresQueue({ url: URL, schema, table: 'queue' });
  await maker.start();
  await maker.stop();
  for (let from = 0; from < count; from += 5000) {
    const ns = Array.from({ length: Math.min(5000, count - from) }, (_, i) => from + i);
    await admin.query(
      `INSERT INTO "${schema}".queue (id, payload) SELECT * FROM unnest($1::text[], $2::jsonb[])`,
      [ns.map((n) => `m-${n}`), ns.map((n) => JSON.stringify({ n, sku: 'A-1', quantity: 2 }))],
    );
  }
  return schema;
}
const drop = (schema) => admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);

async function raw(schema, count) {
  const t0 = performance.now();
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  const table = `"${schema}".queue`;
  try {
    let done = 0;
    while (done < count) {
      const { rows } = await client.query(
        `WITH next AS (SELECT seq FROM ${table} WHERE visible_at <= now() ORDER BY visible_at, seq LIMIT $1 FOR UPDATE SKIP LOCKED)
         UPDATE ${table} AS q SET attempts = q.attempts + 1, visible_at = now() + $2::float8 * interval '1 millisecond', claimed_by = $3
           FROM next WHERE q.seq = next.seq
         RETURNING q.seq::text AS seq, q.id, q.payload::text AS payload, q.metadata, q.attempts`,
        [BATCH, 30_000, 'raw'],
      );
      for (const row of rows) JSON.parse(row.payload);
      await client.query(
        `DELETE FROM ${table} WHERE (seq, attempts) IN (SELECT * FROM unnest($1::bigint[], $2::int[]))`,
        [rows.map((r) => r.seq), rows.map((r) => r.attempts)],
      );
      done += rows.length;
    }
    return performance.now() - t0;
  } finally {
    await client.end();
  }
}
const input = (schema) =>
  createPostgresQueue({ url: URL, schema, table: 'queue', maxInFlight: BATCH, fetchWait: '100ms' });
async function ergon(schema, count) {
  const t0 = performance.now();
  let doneAt = 0;
  let acked = 0;
  const task = consumer({
    name: 'prof-pg',
    connectors: { input: input(schema) },
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
async function connector(schema, count) {
  const t0 = performance.now();
  const c = input(schema);
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
  await admin.end();
}
