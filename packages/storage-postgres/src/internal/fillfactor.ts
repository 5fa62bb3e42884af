/**
 * Migration 0011: pages of `flows` are filled to half when rows are inserted
 * (`fillfactor = 50`), so the claim's and the finish's updates find room for
 * the row's new version on its own page.
 *
 * Neither update is HOT (each changes columns the partial indexes' predicates
 * name), but where the new version lands still matters: on a full page it
 * goes to another one, and PostgreSQL then marks the old version locked in a
 * WAL record of its own before it lets go of the page, finds a page with room
 * through the free space map, and logs the update with the whole new tuple.
 * Filled to 100 %, a one-step flow's claim and finish left its page 1.2 times
 * out of 2 (pg-cycle.mjs, 5,000 flows, batches of 50, pg_walinspect: Heap/LOCK
 * 2.24 records per flow, of which 1 is the claim's own `FOR UPDATE`; Heap/UPDATE
 * 420 bytes per flow); filled to 60 % 0.3 times (LOCK 1.33), to 50 % never (LOCK
 * 1.05, UPDATE 334 bytes per flow). The table takes twice the pages for its
 * live rows: a flow row is small beside its history.
 *
 * The setting applies to pages filled from now on; existing pages keep their
 * rows. `ALTER TABLE … SET` takes a SHARE UPDATE EXCLUSIVE lock: reads and
 * writes go on during an upgrade.
 *
 * @module
 */
import { type Kysely, type Migration, sql } from 'kysely';

/** How full an insert leaves a page of `flows`, in percent. */
export const FLOWS_FILLFACTOR = 50;

/** Sets the fill factor of `flows`. */
export function fillfactorMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await sql`alter table ${sql.id(schema, 'flows')} set (fillfactor = ${sql.lit(FLOWS_FILLFACTOR)})`.execute(
        db,
      );
    },
  };
}
