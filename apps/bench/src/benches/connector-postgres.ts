/**
 * PostgreSQL queue table: messages/s claimed, run through a no-op consumer
 * task and acked (`@ergon/connectors-postgres` under `@ergon/tasks`' runner:
 * `FOR UPDATE SKIP LOCKED` claims of 100, the acks of a turn gathered into
 * one `DELETE`), beside a raw pg loop on the same table that sends the
 * connector's own two statements: the claim (which returns what a consumer
 * needs of a row: id, payload, metadata and delivery count, and records the
 * claimer) and the batch `DELETE` keyed by `(seq, attempts)` (so a row
 * claimed again by someone else after its visibility timeout is not
 * deleted), parsing each JSON payload in between; in the same run (see
 * `connector-rounds.ts`). Both ack a fetched batch with one statement: the
 * connector because its runner settles a batch's transactions in one turn.
 * Each queue is a table in a schema of its own, dropped after.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createPostgresQueue } from '@ergon/connectors-postgres';
import { ConsumerPolicy, consumer } from '@ergon/tasks';
import pg from 'pg';
import type { Bench, BenchContext } from '../lib/bench.js';
import { POSTGRES_URL } from '../lib/config.js';
import { makeRow } from '../lib/results.js';
import { alternateRounds, type ConnectorSide, roundExtras, roundLog, timeAcks } from './connector-rounds.js';

const BATCH = 100;
const MESSAGES = { full: 20_000, quick: 5000, smoke: 300 } as const;

/** A fresh schema holding a queue table (made by the connector) with `count` rows; returns the schema. */
async function fill(admin: pg.Pool, schemas: string[], count: number): Promise<string> {
  const schema = `ergon_bench_pg_${randomBytes(4).toString('hex')}`;
  schemas.push(schema);
  const maker = createPostgresQueue({ url: POSTGRES_URL, schema, table: 'queue' });
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

/** The raw client: claim a batch, parse each payload, delete the batch (the connector's statements); ms until `count` done. */
async function raw(schema: string, count: number): Promise<number> {
  const t0 = performance.now();
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  const table = `"${schema}".queue`;
  try {
    let done = 0;
    while (done < count) {
      const { rows } = await client.query<{ seq: string; payload: string; attempts: number }>(
        `WITH next AS (
           SELECT seq FROM ${table} WHERE visible_at <= now()
           ORDER BY visible_at, seq LIMIT $1 FOR UPDATE SKIP LOCKED
         )
         UPDATE ${table} AS q
            SET attempts = q.attempts + 1, visible_at = now() + $2::float8 * interval '1 millisecond', claimed_by = $3
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

/** Ergon: a no-op consumer task over the connector; ms until `count` transactions were acked. */
async function ergon(schema: string, count: number): Promise<number> {
  const t0 = performance.now();
  const task = consumer({
    name: 'bench-postgres',
    connectors: {
      input: createPostgresQueue({
        url: POSTGRES_URL,
        schema,
        table: 'queue',
        maxInFlight: BATCH,
        fetchWait: '100ms',
      }),
    },
    policies: { consumer: new ConsumerPolicy({ concurrency: BATCH, batchSize: BATCH, limit: count }) },
    processTransaction: async () => undefined,
  });
  return timeAcks(task, count, t0);
}

export const connectorPostgres: Bench = {
  id: 'connector-postgres',
  rows: [{ name: 'connector-postgres', unit: 'messages/s', better: 'higher' }],
  run: async (context: BenchContext) => {
    const count = MESSAGES[context.mode];
    const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    const schemas: string[] = [];
    try {
      const side = (consume: ConnectorSide['consume']): ConnectorSide => ({
        fill: (n) => fill(admin, schemas, n),
        consume,
      });
      // Three warm-up rounds of each side (see connector-rounds.ts): the timed runs measure warm code.
      const rates = await alternateRounds({ raw: side(raw), ergon: side(ergon) }, count, count, 3);
      const best = (values: number[]) => Math.max(...values);
      context.log(roundLog(rates, 'pg'));
      return [
        makeRow('connector-postgres', {
          unit: 'messages/s',
          better: 'higher',
          ergon: best(rates.ergon),
          peer: "raw pg loop: the connector's SKIP LOCKED claim of 100, parse, its DELETE of the batch",
          peerValue: best(rates.raw),
          extra: { size: count, batch: BATCH, concurrency: BATCH, ...roundExtras(rates) },
        }),
      ];
    } finally {
      for (const schema of schemas)
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await admin.end();
    }
  },
};
