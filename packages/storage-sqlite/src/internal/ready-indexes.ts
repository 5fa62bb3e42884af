/**
 * Schema version 8: the claim indexes hold only what they are read for.
 *
 * Before, `flows_claim`, `flows_wake` and `flows_fair` were partial on the
 * generated `wake_at`, which is `run_at` for a ready (pending or suspended)
 * flow and the lease's expiry for a running one. So a claim moved the flow
 * within all three (a delete and an insert each: the expiry replaced `run_at`),
 * a lease renewal moved it again, and its end deleted it from all three: with
 * `flows_running` and `flows_held`, 14 index edits for a one-step flow.
 *
 * Now the three hold ready flows only (`status in ('pending','suspended') and
 * run_at is not null`, {@link READY}): a claim deletes the flow from each, and
 * neither a renewal nor the end touches them. Running flows are found by
 * `flows_running`, reordered to `(queue, lease_expires_at, concurrency_key)`
 * (and, from version 10, the lease owner last: {@link runningOwnerMigration}),
 * which now serves both what it served (running flows counted by unexpired
 * lease) and what the old indexes did for running flows: those whose lease
 * expired (claimable again, `expiredCandidates`) and the next expiry
 * (`nextWakeAt`). A one-step flow makes 8 index edits (claim: three deletes,
 * two inserts; end: two deletes, one insert); 6 from version 10, without `flows_held`.
 *
 * Measured (`executor/bench`'s drain, 20k one-step flows, 1 process × 50, time
 * inside each statement, alternated): statements 55.6/52.6 → 49.1/45.3 µs per flow.
 *
 * Older code stops working on an upgraded file (its `INDEXED BY` names an index
 * that no longer exists or no longer fits): stop every process using the file
 * first, as for version 2.
 *
 * @module
 */
import { type Kysely, type Migration, type RawBuilder, type SqlBool, sql } from 'kysely';

/** The predicate of the ready indexes; a query must repeat it, word for word, to use them. */
export const READY = sql.raw<SqlBool>(`status in ('pending','suspended') and run_at is not null`);

/**
 * The running flows of a queue whose lease expired by `now` (or that have none), as a compound
 * SELECT of `columns` (two ranges of `flows_running`: a range and an `OR` would scan it whole).
 * Its ORDER BY costs a sorter (~8 µs a call even when empty): ask {@link anyExpired} first.
 */
export function expired(
  queue: string,
  now: number,
  filter: RawBuilder<unknown>,
  columns: RawBuilder<unknown>,
) {
  const from = sql`from flows indexed by flows_running where queue = ${queue} and status = 'running'`;
  return sql`select ${columns} ${from} and lease_expires_at is null and ${filter}
             union all select ${columns} ${from} and lease_expires_at <= ${now} and ${filter}`;
}

/** 1 when a running flow of the queue has an expired lease (or none), else 0: two index seeks, ~2.5 µs. */
export function anyExpired(queue: string, now: number) {
  const from = sql`from flows indexed by flows_running where queue = ${queue} and status = 'running'`;
  return sql<{ any: number }>`select exists (select 1 ${from} and lease_expires_at <= ${now})
             or exists (select 1 ${from} and lease_expires_at is null) as any`;
}

/**
 * Schema version 10: `flows_running` also holds the lease owner, and `flows_held` (running flows
 * by owner, which only the reaping of a dead worker reads) is gone: a claim inserted the flow
 * into it and the end deleted it, one index edit each, on every flow. The reaping now reads
 * `flows_running` whole (`expireHeld`): all running flows, once per dead worker.
 */
export const runningOwnerMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('flows_held').ifExists().execute();
    await db.schema.dropIndex('flows_running').ifExists().execute();
    await db.schema
      .createIndex('flows_running')
      .on('flows')
      .columns(['queue', 'lease_expires_at', 'concurrency_key', 'lease_owner'])
      .where(sql.ref('status'), '=', 'running')
      .execute();
  },
};

/**
 * Schema version 11: no `flows_due`. It served `nextWakeAt` alone (the earliest ready flow per
 * queue and type, one seek), and every claim deleted the flow from it: an index edit and ~5 of
 * the ~46 pages a commit of 50 one-step flows wrote to the WAL (6.8k of ~177k instructions per
 * flow, store only). `nextReady` reads `flows_ready` instead, one seek per priority present.
 *
 * Older code stops working on an upgraded file (its `INDEXED BY flows_due` no longer resolves):
 * stop every process using the file first, as for version 8.
 */
export const dueIndexDrop: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('flows_due').ifExists().execute();
  },
};

/** Schema version 8 (see the module notes). */
export const readyIndexesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    for (const name of ['flows_claim', 'flows_wake', 'flows_fair', 'flows_running']) {
      await db.schema.dropIndex(name).ifExists().execute();
    }
    // Plain claims: per (queue, type), ready flows in claim order.
    await db.schema
      .createIndex('flows_ready')
      .on('flows')
      .columns(['queue', 'type', 'priority desc', 'run_at', 'id'])
      .where(READY)
      .execute();
    // nextWakeAt: the earliest ready flow per (queue, type) is one index seek (dropped in version 11).
    await db.schema
      .createIndex('flows_due')
      .on('flows')
      .columns(['queue', 'type', 'run_at'])
      .where(READY)
      .execute();
    // Claims of a controlled queue: per (queue, type), ready flows in fair order.
    await db.schema
      .createIndex('flows_fair')
      .on('flows')
      .columns(['queue', 'type', 'priority desc', 'fair_tag', 'run_at', 'id'])
      .where(READY)
      .execute();
    // Running flows by queue and lease expiry: counted when unexpired, claimed again when expired.
    await db.schema
      .createIndex('flows_running')
      .on('flows')
      .columns(['queue', 'lease_expires_at', 'concurrency_key'])
      .where(sql.ref('status'), '=', 'running')
      .execute();
  },
};
