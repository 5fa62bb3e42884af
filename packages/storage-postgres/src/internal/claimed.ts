/**
 * The claim's flows as one JSON text: the claim statement wraps
 * `ergon_claim_park` (migration 0012, unchanged) in `json_agg` of one
 * `json_build_array` per claimed flow, its columns in {@link TUPLE}'s order,
 * and the worker parses that text once (`JSON.parse`) instead of pg reading
 * 24 typed columns per flow: a row description of 24 fields per claim, a
 * string slice and a type parser per field, and a row object built property
 * by property. Numbers come back as JSON numbers (`bigint` columns are
 * milliseconds, tokens and counts, read as numbers as before), booleans as
 * `true`/`false`, text as strings, nulls as `null`.
 *
 * @module
 */
import type { FlowRecord, Wait } from '@ergon/core';
import { type RawBuilder, sql } from 'kysely';
import type { ClaimedLease, ClaimedRow } from './rows.js';

/** The claimed flow's columns in the order of each JSON array; {@link fromTuple} reads them by position. */
const TUPLE = [
  'id',
  'type',
  'queue',
  'priority',
  'input',
  'result',
  'error',
  'parent_id',
  'run_at',
  'fencing_token',
  'cancel_requested',
  'run_count',
  'abandoned_runs',
  'last_error',
  'progress',
  'progress_at',
  'trace_context',
  'concurrency_key',
  'concurrency_limit',
  'debounce_key',
  'fair_tag',
  'created_at',
  'finished_at',
] as const satisfies readonly (keyof ClaimedRow)[];

/** Fails to compile when a column the claim sends back is missing from {@link TUPLE}. */
const EVERY_COLUMN: Record<Exclude<keyof ClaimedRow, (typeof TUPLE)[number]>, never> = {};
void EVERY_COLUMN;

/** A claimed flow as the statement sends it: {@link TUPLE}'s columns by position. */
export type ClaimedTuple = {
  readonly [I in keyof typeof TUPLE]: ClaimedRow[(typeof TUPLE)[I] & keyof ClaimedRow];
};

/** The claim statement's row: the requested queues under flow control, and the claimed flows. */
export interface ClaimJsonRow {
  /** A JSON array of queue names. */
  readonly controlled: string;
  /** A JSON array of {@link ClaimedTuple}s, in no particular order. */
  readonly flows: string;
}

/** `select …` of the claim statement over `claimed`, the function's rows aliased `c`. */
export function claimedJson(claimed: RawBuilder<unknown>): RawBuilder<unknown> {
  const columns = sql.raw(TUPLE.map((name) => `c.${name}`).join(', '));
  return sql`select min(c.controlled) as controlled,
      coalesce(json_agg(json_build_array(${columns})) filter (where c.id is not null), '[]')::text as flows
    from ${claimed} c`;
}

const EMPTY_WAITS: readonly Wait[] = Object.freeze([]);

/** The fencing token of a claimed flow. */
export const tupleToken = (t: ClaimedTuple): number => t[9];

/** Priority descending, then runAt ascending, then id: the order of the `flows_ready` index. */
export function tupleOrder(a: ClaimedTuple, b: ClaimedTuple): number {
  return b[3] - a[3] || (a[8] ?? 0) - (b[8] ?? 0) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/**
 * The frozen {@link FlowRecord} of a claimed flow: its columns as the claim sent them back, and
 * what the claim set (running, under `lease`, no waits), as `toClaimedRecord` (`rows.ts`) makes it
 * from a row.
 */
export function fromTuple(t: ClaimedTuple, lease: ClaimedLease): FlowRecord {
  return Object.freeze({
    id: t[0],
    type: t[1],
    queue: t[2],
    status: 'running',
    priority: t[3],
    input: t[4],
    result: t[5] ?? undefined,
    error: t[6] ?? undefined,
    parentId: t[7] ?? undefined,
    runAt: t[8] ?? undefined,
    fencingToken: t[9],
    leaseOwner: lease.workerId,
    leaseExpiresAt: lease.expiresAt,
    waits: EMPTY_WAITS,
    cancelRequested: t[10],
    runCount: t[11],
    abandonedRuns: t[12],
    lastError: t[13] ?? undefined,
    damage: undefined,
    progress: t[14] ?? undefined,
    progressAt: t[15] ?? undefined,
    traceContext: t[16] ?? undefined,
    concurrencyKey: t[17] ?? undefined,
    concurrencyLimit: t[18] ?? undefined,
    debounceKey: t[19] ?? undefined,
    fairTag: t[20] ?? undefined,
    createdAt: t[21],
    updatedAt: lease.now,
    finishedAt: t[22] ?? undefined,
  });
}
