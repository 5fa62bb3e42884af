/**
 * Schema version 12: only flows of controlled queues are in the fair index.
 *
 * Claims of a controlled queue (flow control: limits, or keyed flows) read
 * ready flows in fair order through their own index; claims of a plain queue
 * read `flows_ready`. Until version 11 that fair index (`flows_fair`) held
 * every ready flow of every queue, so each flow of a plain queue was inserted
 * into it when created and deleted from it when claimed: an index edit inside
 * the write lock that no read of a plain queue ever used.
 *
 * Now a flow row says whether its queue was controlled (`controlled`, 1 or
 * NULL) and the fair index, `flows_controlled`, holds the ready flows of
 * those only ({@link CONTROLLED_READY}). The mark is set when the flow is
 * created in a controlled queue (`insertFlow`), and on all unfinished flows of
 * a queue when it becomes controlled (`fcMarkFlows`: limits configured, or the
 * first keyed flow; one scan of the table, once per queue). A queue that stops
 * being controlled keeps its marks, which cost an index entry and nothing else.
 *
 * Older code refuses an upgraded file (`STORE_SCHEMA_TOO_NEW`); a process of
 * older code still running on it fails its claims of controlled queues (its
 * `INDEXED BY flows_fair` no longer resolves) and would create unmarked flows
 * in them: stop every process using the file first, as for versions 8 and 11.
 *
 * @module
 */
import { type Kysely, type Migration, type SqlBool, sql } from 'kysely';

/** The predicate of `flows_controlled`; a query must repeat it, word for word, to use the index. */
export const CONTROLLED_READY = sql.raw<SqlBool>(
  `status in ('pending','suspended') and run_at is not null and controlled = 1`,
);

/** Flows that can still run: those a queue's becoming controlled marks. */
export const UNFINISHED = sql.raw<SqlBool>(`status in ('pending','running','suspended')`);

/** Schema version 12 (see the module notes). */
export const controlledMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('flows').addColumn('controlled', 'integer').execute();
    await sql`update flows set controlled = 1 where ${UNFINISHED} and queue in
              (select queue from queues where limits is not null or keyed <> 0)`.execute(db);
    await db.schema.dropIndex('flows_fair').ifExists().execute();
    // Claims of a controlled queue: per (queue, type), its ready flows in fair order.
    await db.schema
      .createIndex('flows_controlled')
      .on('flows')
      .columns(['queue', 'type', 'priority desc', 'fair_tag', 'run_at', 'id'])
      .where(CONTROLLED_READY)
      .execute();
  },
};
