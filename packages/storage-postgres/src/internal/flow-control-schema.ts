/**
 * Migration 0003: the tables and columns of flow control (`flow-control.ts`).
 *
 * @module
 */
import { type Kysely, type Migration, sql } from 'kysely';

/** Flow control: the flows' key, limit, debounce key and fair tag; queues, keys, starts, dedup and debounce keys. */
export function flowControlMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const s = db.schema.withSchema(schema);
      await s
        .alterTable('flows')
        .addColumn('concurrency_key', 'text')
        .addColumn('concurrency_limit', 'integer')
        .addColumn('debounce_key', 'text')
        .addColumn('fair_tag', 'bigint')
        .execute();
      // What runs now, per queue and key: the counts every controlled claim reads.
      await s
        .createIndex('flows_running')
        .on('flows')
        .columns(['queue', 'concurrency_key', 'lease_expires_at'])
        .where(sql.ref('status'), '=', 'running')
        .execute();
      // Claims of a controlled queue: ready flows in fair order.
      await sql`create index flows_fair on ${sql.id(schema, 'flows')}
                (queue, priority desc, fair_tag nulls first, run_at, id, wake_at) where wake_at is not null`.execute(
        db,
      );
      await s
        .createTable('queues')
        .addColumn('queue', 'text', (c) => c.primaryKey())
        .addColumn('limits', 'jsonb')
        .addColumn('keyed', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('virtual', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await s
        .createTable('queue_keys')
        .addColumn('queue', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('last_tag', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('queue_keys_pk', ['queue', 'key'])
        .execute();
      await s
        .createTable('queue_starts')
        .addColumn('queue', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('queue_starts_at').on('queue_starts').columns(['queue', 'at']).execute();
      await s
        .createTable('flow_keys')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('flow_id', 'text', (c) => c.notNull())
        .addColumn('until', 'bigint')
        .addPrimaryKeyConstraint('flow_keys_pk', ['kind', 'key'])
        .execute();
    },
  };
}
