/**
 * Migration 0014: the index of `listFlows`' order, `(created_at desc, id desc)`,
 * holds the flows that are not running (`flows_listed`) and no longer every
 * flow (`flows_created`); running flows are listed from `flows_lease`, which
 * holds them all (a running flow's `wake_at` is its lease's end, never null).
 *
 * A claim's update and a finish's are never HOT (`ready-index.ts`), so each
 * puts its new row version into every index whose predicate it matches:
 * `flows_created` took two entries per one-step flow, and with them most of
 * its pages' bottom-up deletion passes. Two schemas draining the same 6,000
 * one-step flows in alternate batches of 50 (claim and write), one without
 * that index: store backends 71.7/76.4/75.6 against 64.3/66.6/63.6 µs per
 * flow. Now a claim's row version goes into `flows_lease` alone besides the
 * primary key (one entry per flow fewer); the finished one still enters
 * `flows_listed`.
 *
 * `listFlows` (`list.ts`) reads not-running flows from `flows_listed` and
 * running ones from `flows_lease`, each newest first, and merges them.
 *
 * The new index is built before the migration on an upgrade, without blocking
 * writes (`index-builds.ts`); the migration drops `flows_created`. A process
 * of an earlier version still lists correctly after it, but its list
 * statement, which does not say `status <> 'running'`, can use neither index
 * for its order: it sorts the matching flows instead (a full read of the
 * table when it filters on nothing the other indexes hold).
 *
 * @module
 */
import { type Kysely, type Migration, sql } from 'kysely';
import { ensureIndex, type IndexBuild } from './index-builds.js';

/** The rows of `flows_listed`: flows that are not running (those `flows_lease` does not hold). */
export const LISTED = sql`status <> 'running'`;

/** The index of migration 0014 (built before it, concurrently, on an upgrade: `index-builds.ts`). */
export function listedIndexes(schema: string): readonly IndexBuild[] {
  return [
    {
      name: 'flows_listed',
      definition: sql`${sql.id(schema, 'flows')} (created_at desc, id desc) where ${LISTED}`,
    },
  ];
}

/** Creates `flows_listed` (unless an upgrade built it already) and drops `flows_created`. */
export function listedIndexMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      for (const index of listedIndexes(schema)) await ensureIndex(db, schema, index, false);
      await sql`drop index if exists ${sql.id(schema, 'flows_created')}`.execute(db);
    },
  };
}
