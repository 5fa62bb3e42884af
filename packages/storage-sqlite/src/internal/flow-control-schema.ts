/**
 * Schema version 6: the columns, indexes and tables of flow control (`flow-control.ts`).
 *
 * @module
 */
import { type Kysely, type Migration, sql } from 'kysely';

/** Schema version 6: flow control. */
export const flowControlMigration: Migration = {
  async up(db: Kysely<unknown>) {
    for (const [name, type] of [
      ['concurrency_key', 'text'],
      ['concurrency_limit', 'integer'],
      ['debounce_key', 'text'],
      ['fair_tag', 'integer'],
    ] as const) {
      await db.schema.alterTable('flows').addColumn(name, type).execute();
    }
    // Claims of a controlled queue: per (queue, type), ready flows in fair order.
    await db.schema
      .createIndex('flows_fair')
      .on('flows')
      .columns(['queue', 'type', 'priority desc', 'fair_tag', 'run_at', 'id', 'wake_at'])
      .where('wake_at', 'is not', null)
      .execute();
    // What runs now, per queue and key: the counts every controlled claim reads.
    await db.schema
      .createIndex('flows_running')
      .on('flows')
      .columns(['queue', 'concurrency_key', 'lease_expires_at'])
      .where(sql.ref('status'), '=', 'running')
      .execute();
    await db.schema
      .createTable('queues')
      .addColumn('queue', 'text', (c) => c.primaryKey())
      .addColumn('limits', 'text')
      .addColumn('keyed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('virtual', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('queue_keys')
      .addColumn('queue', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('last_tag', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('queue_keys_pk', ['queue', 'key'])
      .modifyEnd(sql`without rowid`)
      .execute();
    await db.schema
      .createTable('queue_starts')
      .addColumn('queue', 'text', (c) => c.notNull())
      .addColumn('at', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('queue_starts_at').on('queue_starts').columns(['queue', 'at']).execute();
    await db.schema
      .createTable('flow_keys')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('until', 'integer')
      .addPrimaryKeyConstraint('flow_keys_pk', ['kind', 'key'])
      .modifyEnd(sql`without rowid`)
      .execute();
  },
};
