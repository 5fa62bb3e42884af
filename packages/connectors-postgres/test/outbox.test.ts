// The transactional outbox against the real PostgreSQL: what is dispatched
// with the caller's client exists exactly when the caller's transaction
// commits, wakes a waiting consumer on commit (NOTIFY is transactional), and
// a relay task moves it on unchanged.
import { createTransaction } from '@ergon/core';
import { ConsumerPolicy, hybrid, runTask } from '@ergon/tasks';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresOutbox, createPostgresQueue, type PostgresQueueConnector } from '../src/index.js';
import { adminPool, dropSchemas, POSTGRES_URL, postgresAvailable, uniqueSchema } from './support.js';

const admin = adminPool();
const schemas: string[] = [];
const connectors: PostgresQueueConnector<unknown>[] = [];
afterEach(async () => {
  await Promise.all(connectors.splice(0).map((c) => c.stop()));
  await dropSchemas(admin, schemas.splice(0));
});

function setUp() {
  const schema = uniqueSchema('outbox');
  schemas.push(schema);
  const outbox = createPostgresOutbox<{ n: number }>({ url: POSTGRES_URL, schema, fetchWait: '2s' });
  connectors.push(outbox as PostgresQueueConnector<unknown>);
  return { schema, outbox };
}

const count = async (sql: string) => Number((await admin.query(sql)).rows[0].n);

describe.runIf(postgresAvailable)('the transactional outbox', () => {
  it('commits a business write and its outgoing message together', async () => {
    const { schema, outbox } = setUp();
    await outbox.start();
    await admin.query(`CREATE TABLE "${schema}".orders (id text PRIMARY KEY)`);
    await outbox.withTransaction(async (client) => {
      await client.query(`INSERT INTO "${schema}".orders (id) VALUES ('o-1')`);
      await outbox.dispatchTransactions([createTransaction({ id: 'placed-o-1', payload: { n: 1 } })], {
        client,
      });
    });
    expect(await count(`SELECT count(*) AS n FROM "${schema}".orders`)).toBe(1);
    expect(await outbox.readyCount()).toBe(1);
    expect((await outbox.findTransaction('placed-o-1'))?.payload).toEqual({ n: 1 });
  });

  it('leaves neither the write nor the message when the transaction rolls back', async () => {
    const { schema, outbox } = setUp();
    await outbox.start();
    await admin.query(`CREATE TABLE "${schema}".orders (id text PRIMARY KEY)`);
    const failure = new Error('payment declined');
    await expect(
      outbox.withTransaction(async (client) => {
        await client.query(`INSERT INTO "${schema}".orders (id) VALUES ('o-1')`);
        await outbox.dispatchTransactions([createTransaction({ id: 'placed-o-1', payload: { n: 1 } })], {
          client,
        });
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await count(`SELECT count(*) AS n FROM "${schema}".orders`)).toBe(0);
    expect(await outbox.readyCount()).toBe(0);
  });

  it('wakes a waiting consumer when the transaction commits, not before', async () => {
    const { outbox } = setUp();
    await outbox.start();
    const client = await outbox.service.pool.connect();
    try {
      await client.query('BEGIN');
      await outbox.dispatchTransactions([createTransaction({ id: 'late', payload: { n: 7 } })], { client });
      const empty = await outbox.fetchTransactions({ limit: 1, signal: AbortSignal.timeout(300) });
      expect(empty, 'uncommitted rows are invisible').toEqual([]);
      const waiting = outbox.fetchTransactions({ limit: 1 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const committed = Date.now();
      await client.query('COMMIT');
      const [tx] = await waiting;
      expect(tx?.id).toBe('late');
      expect(Date.now() - committed, 'woken by NOTIFY, well before fetchWait (2 s)').toBeLessThan(1000);
      await outbox.ack(tx as NonNullable<typeof tx>);
    } finally {
      client.release();
    }
  });

  it('is relayed by a hybrid task to another connector, unchanged, and acked', async () => {
    const { schema, outbox } = setUp();
    const target = createPostgresQueue<{ n: number }>({ url: POSTGRES_URL, schema, table: 'events' });
    connectors.push(target as PostgresQueueConnector<unknown>);
    await outbox.dispatchTransactions(
      Array.from({ length: 20 }, (_, n) =>
        createTransaction({ id: `evt-${n}`, payload: { n }, metadata: { 'x-tenant': 'acme' } }),
      ),
    );
    const relay = hybrid({
      name: 'outbox-relay',
      connectors: { input: outbox, output: target },
      policies: { consumer: new ConsumerPolicy({ mode: 'batch', concurrency: 4, batchSize: 8 }) },
      processTransaction: (tx) => [tx],
    });
    const summary = await runTask(relay, { handleSignals: false });
    expect(summary.succeeded).toBe(20);
    const rows = await admin.query(`SELECT id, payload, metadata FROM "${schema}".events ORDER BY seq`);
    expect(rows.rows.map((r) => r.id).sort()).toEqual(
      Array.from({ length: 20 }, (_, n) => `evt-${n}`).sort(),
    );
    for (const row of rows.rows) {
      expect(row.payload).toEqual({ n: Number(row.id.slice(4)) });
      expect(row.metadata).toEqual({ 'x-tenant': 'acme' });
    }
    expect(await count(`SELECT count(*) AS n FROM "${schema}".ergon_outbox`)).toBe(0);
  });
});
