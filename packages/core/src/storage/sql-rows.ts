/**
 * The row layout the SQL stores share (SQLite, PostgreSQL): the snake_case
 * columns of an imported flow and of a schedule, and the mapping between them
 * and the contract's records, with no dialect in it. Each store adds the
 * columns its dialect spells its own way (a boolean: `0`/`1` or `boolean`)
 * and keeps its SQL.
 *
 * @module
 */
import { ErgonError, ErrorCode } from '../errors.js';
import type { FlowRecord, Wait } from './records.js';
import type { ScheduleCatchup, ScheduleOverlap, ScheduleRecord, ScheduleState } from './schedules.js';

/** The columns of an imported flow's row, but `cancel_requested` (a boolean in the store's dialect). */
export interface ImportedFlowColumns {
  /** `FlowRecord.id`. */
  readonly id: string;
  /** `FlowRecord.type`. */
  readonly type: string;
  /** `FlowRecord.queue`. */
  readonly queue: string;
  /** `FlowRecord.status`. */
  readonly status: string;
  /** `FlowRecord.priority`. */
  readonly priority: number;
  /** `FlowRecord.input` (encoded). */
  readonly input: string;
  /** `FlowRecord.result` (encoded), or null. */
  readonly result: string | null;
  /** `FlowRecord.error` (encoded), or null. */
  readonly error: string | null;
  /** `FlowRecord.parentId`, or null. */
  readonly parent_id: string | null;
  /** `FlowRecord.runAt`, or null. */
  readonly run_at: number | null;
  /** `FlowRecord.fencingToken`. */
  readonly fencing_token: number;
  /** `FlowRecord.leaseOwner`, or null. */
  readonly lease_owner: string | null;
  /** `FlowRecord.leaseExpiresAt`, or null. */
  readonly lease_expires_at: number | null;
  /** The waits as the store's own JSON (see {@link ownWaits}). */
  readonly waits: string;
  /** `FlowRecord.runCount`. */
  readonly run_count: number;
  /** `FlowRecord.abandonedRuns` (0 when absent). */
  readonly abandoned_runs: number;
  /** `FlowRecord.lastError`, or null. */
  readonly last_error: string | null;
  /** `FlowRecord.progress` (encoded), or null. */
  readonly progress: string | null;
  /** `FlowRecord.progressAt`, or null. */
  readonly progress_at: number | null;
  /** `FlowRecord.traceContext`, or null. */
  readonly trace_context: string | null;
  /** `FlowRecord.concurrencyKey`, or null. */
  readonly concurrency_key: string | null;
  /** `FlowRecord.concurrencyLimit`, or null. */
  readonly concurrency_limit: number | null;
  /** `FlowRecord.debounceKey`, or null. */
  readonly debounce_key: string | null;
  /** `FlowRecord.createdAt`. */
  readonly created_at: number;
  /** `FlowRecord.updatedAt`. */
  readonly updated_at: number;
  /** `FlowRecord.finishedAt`, or null. */
  readonly finished_at: number | null;
}

/**
 * The row of an imported flow record: every field a store keeps, flow control included, absent
 * ones `null`. Never `damage`, nor the fair-queueing tag a store assigns itself.
 */
export function importedFlowColumns(flow: FlowRecord): ImportedFlowColumns {
  return {
    id: flow.id,
    type: flow.type,
    queue: flow.queue,
    status: flow.status,
    priority: flow.priority,
    input: flow.input,
    result: flow.result ?? null,
    error: flow.error ?? null,
    parent_id: flow.parentId ?? null,
    run_at: flow.runAt ?? null,
    fencing_token: flow.fencingToken,
    lease_owner: flow.leaseOwner ?? null,
    lease_expires_at: flow.leaseExpiresAt ?? null,
    waits: JSON.stringify(ownWaits(flow.waits)),
    run_count: flow.runCount,
    abandoned_runs: flow.abandonedRuns ?? 0,
    last_error: flow.lastError ?? null,
    progress: flow.progress ?? null,
    progress_at: flow.progressAt ?? null,
    trace_context: flow.traceContext ?? null,
    concurrency_key: flow.concurrencyKey ?? null,
    concurrency_limit: flow.concurrencyLimit ?? null,
    debounce_key: flow.debounceKey ?? null,
    created_at: flow.createdAt,
    updated_at: flow.updatedAt,
    finished_at: flow.finishedAt ?? null,
  };
}

/** Only the waits' own fields, so the stored JSON is the store's. */
export function ownWaits(waits: readonly Wait[]): Wait[] {
  return waits.map((w): Wait => {
    if (w.kind === 'timer') return { kind: 'timer', at: w.at, position: w.position };
    if (w.kind === 'signal') return { kind: 'signal', name: w.name, position: w.position };
    return { kind: 'child', flowId: w.flowId, position: w.position };
  });
}

/** The columns of a schedule's state, but `paused` (a boolean in the store's dialect). */
export interface ScheduleColumns {
  /** `ScheduleState.type`. */
  readonly type: string;
  /** `ScheduleState.queue`. */
  readonly queue: string;
  /** `ScheduleState.cron`. */
  readonly cron: string;
  /** `ScheduleState.timezone`. */
  readonly timezone: string;
  /** `ScheduleState.input` (encoded). */
  readonly input: string;
  /** `ScheduleState.priority`. */
  readonly priority: number;
  /** `ScheduleState.overlap`. */
  readonly overlap: string;
  /** `none`, `latest`, or a whole number as text. */
  readonly catchup: string;
  /** `ScheduleState.nextAt`, or null. */
  readonly next_at: number | null;
  /** `ScheduleState.lastFlowId`, or null. */
  readonly last_flow_id: string | null;
  /** `ScheduleState.bufferedAt`, or null. */
  readonly buffered_at: number | null;
}

/** A schedule's row as read, but `paused`. */
export interface ScheduleRow extends ScheduleColumns {
  /** The schedule id. */
  readonly id: string;
  /** A number, or its text where the driver reads a `bigint` as text. */
  readonly revision: number | string;
  /** When it was created (ms). */
  readonly created_at: number;
  /** When it last changed (ms). */
  readonly updated_at: number;
}

/** The columns of `state`, absent fields `null`. */
export function scheduleColumns(state: ScheduleState): ScheduleColumns {
  return {
    type: state.type,
    queue: state.queue,
    cron: state.cron,
    timezone: state.timezone,
    input: state.input,
    priority: state.priority,
    overlap: state.overlap,
    catchup: String(state.catchup),
    next_at: state.nextAt ?? null,
    last_flow_id: state.lastFlowId ?? null,
    buffered_at: state.bufferedAt ?? null,
  };
}

/**
 * The record of a schedule row whose `paused` column reads as `paused`.
 * @throws STORE_CORRUPT for a catch-up policy no version writes.
 */
export function scheduleFromRow(row: ScheduleRow, paused: boolean): ScheduleRecord {
  return {
    id: row.id,
    type: row.type,
    queue: row.queue,
    cron: row.cron,
    timezone: row.timezone,
    input: row.input,
    priority: row.priority,
    overlap: row.overlap as ScheduleOverlap,
    catchup: parseCatchup(row.id, row.catchup),
    paused,
    nextAt: row.next_at ?? undefined,
    lastFlowId: row.last_flow_id ?? undefined,
    bufferedAt: row.buffered_at ?? undefined,
    revision: Number(row.revision),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The stored text of a catch-up policy as the policy. */
function parseCatchup(id: string, text: string): ScheduleCatchup {
  if (text === 'none' || text === 'latest') return text;
  const n = Number(text);
  if (Number.isSafeInteger(n) && n >= 1) return n;
  throw new ErgonError(
    ErrorCode.STORE_CORRUPT,
    `schedule ${JSON.stringify(id)} has a damaged catch-up policy`,
    {
      details: { scheduleId: id },
    },
  );
}
