/**
 * Rows to records. Encoded values (`input`, `result`, `error`, payloads) pass
 * through as text and are never decoded here; `waits` is the store's own JSON
 * and is checked when read, as is every history row.
 *
 * @module
 */
import {
  ErrorCode,
  type FlowRecord,
  type FlowStatus,
  type NewFlow,
  type OperationRecord,
  type SignalRecord,
  type Wait,
} from '@ergon/core';
import type { Selectable } from 'kysely';
import { permanentError } from './errors.js';

/** The waits' own fields (core's, shared with the other SQL store). */
export { ownWaits } from '@ergon/core';

import type { FlowsTable, HistoryTable, SignalsTable } from './schema.js';

/** A flow row as read (the generated column may be present or not). */
export type FlowRow = Omit<Selectable<FlowsTable>, 'wake_at'>;

/** A history row as read. */
export type HistoryRow = Selectable<HistoryTable>;

/** A signal row as read. */
export type SignalRow = Selectable<SignalsTable>;

const EMPTY_WAITS: readonly Wait[] = Object.freeze([]);

/**
 * A frozen {@link FlowRecord} from a row. Waits that are not the store's JSON become none,
 * with `damage` saying so: one damaged row must not fail a whole page of `listFlows`.
 */
export function toFlowRecord(row: FlowRow): FlowRecord {
  let waits: readonly Wait[];
  let damage: string | undefined;
  try {
    waits = parseWaits(row.waits, row.id);
  } catch (error) {
    waits = EMPTY_WAITS;
    damage = (error as Error).message;
  }
  return record(row, {
    status: row.status as FlowStatus,
    leaseOwner: row.lease_owner ?? undefined,
    leaseExpiresAt: row.lease_expires_at ?? undefined,
    updatedAt: row.updated_at,
    waits,
    damage,
  });
}

/** The columns a claim sets to values its caller knows: its statement does not send them back. */
export type SetByClaim = 'status' | 'lease_owner' | 'lease_expires_at' | 'updated_at' | 'waits';

/** A claimed flow's row as the claim sends it back (`claim-park.ts`). */
export type ClaimedRow = Omit<FlowRow, SetByClaim>;

/** What a claim set on each flow it took. */
export interface ClaimedLease {
  readonly workerId: string;
  readonly expiresAt: number;
  readonly now: number;
}

/**
 * The frozen {@link FlowRecord} of a flow a claim took: its row as the claim sent it back, and
 * what the claim set (running, under `lease`, no waits). The row is only read: pg builds each
 * result's rows anew, and properties added to them (what the claim set, as it once was) gave the
 * rows of every claim hidden classes of their own in V8, 8 µs a row, against 0.7 µs to parse one
 * and build its record.
 */
export function toClaimedRecord(row: ClaimedRow, lease: ClaimedLease): FlowRecord {
  return record(row, {
    status: 'running',
    leaseOwner: lease.workerId,
    leaseExpiresAt: lease.expiresAt,
    updatedAt: lease.now,
    waits: EMPTY_WAITS,
    damage: undefined,
  });
}

/** The record's fields that a claim sets, given apart from the row. */
interface SetFields {
  readonly status: FlowStatus;
  readonly leaseOwner: string | undefined;
  readonly leaseExpiresAt: number | undefined;
  readonly updatedAt: number;
  readonly waits: readonly Wait[];
  readonly damage: string | undefined;
}

function record(row: ClaimedRow, set: SetFields): FlowRecord {
  return Object.freeze({
    id: row.id,
    type: row.type,
    queue: row.queue,
    status: set.status,
    priority: row.priority,
    input: row.input,
    result: row.result ?? undefined,
    error: row.error ?? undefined,
    parentId: row.parent_id ?? undefined,
    runAt: row.run_at ?? undefined,
    fencingToken: row.fencing_token,
    leaseOwner: set.leaseOwner,
    leaseExpiresAt: set.leaseExpiresAt,
    waits: set.waits,
    cancelRequested: row.cancel_requested,
    runCount: row.run_count,
    abandonedRuns: row.abandoned_runs,
    lastError: row.last_error ?? undefined,
    damage: set.damage,
    progress: row.progress ?? undefined,
    progressAt: row.progress_at ?? undefined,
    traceContext: row.trace_context ?? undefined,
    concurrencyKey: row.concurrency_key ?? undefined,
    concurrencyLimit: row.concurrency_limit ?? undefined,
    debounceKey: row.debounce_key ?? undefined,
    fairTag: row.fair_tag ?? undefined,
    createdAt: row.created_at,
    updatedAt: set.updatedAt,
    finishedAt: row.finished_at ?? undefined,
  });
}

/**
 * The row `insert_flow` writes for `input` (`queries.ts`): what the input says, and the defaults of
 * the other columns. An insert that succeeded stored exactly these values (text as given, whole
 * numbers: the server refuses any other), so the row is not read back.
 */
export function newFlowRow(input: NewFlow): FlowRow {
  return {
    id: input.id,
    type: input.type,
    queue: input.queue,
    status: 'pending',
    priority: input.priority,
    input: input.input,
    result: null,
    error: null,
    parent_id: input.parentId ?? null,
    run_at: input.runAt,
    fencing_token: 0,
    lease_owner: null,
    lease_expires_at: null,
    waits: EMPTY_WAITS,
    cancel_requested: false,
    run_count: 0,
    abandoned_runs: 0,
    last_error: null,
    progress: null,
    progress_at: null,
    trace_context: input.traceContext ?? null,
    concurrency_key: null,
    concurrency_limit: null,
    debounce_key: null,
    fair_tag: null,
    created_at: input.now,
    updated_at: input.now,
    finished_at: null,
  };
}

/** The waits of a flow row (parsed jsonb). @throws STORE_CORRUPT when they are not an array of waits. */
export function parseWaits(value: unknown, flowId: string): readonly Wait[] {
  if (Array.isArray(value) && value.length === 0) return EMPTY_WAITS;
  if (!Array.isArray(value) || !value.every(isWait)) {
    throw permanentError(
      ErrorCode.STORE_CORRUPT,
      `flow ${JSON.stringify(flowId)} has unreadable waits: the database was changed outside Ergon`,
      { details: { flowId } },
    );
  }
  return Object.freeze(value.map((w: Wait) => Object.freeze(w)));
}

/** True for a well-formed {@link Wait}. */
export function isWait(value: unknown): value is Wait {
  const w = value as Partial<Record<string, unknown>> | null;
  if (typeof w !== 'object' || w === null || !Number.isInteger(w.position)) return false;
  switch (w.kind) {
    case 'timer':
      return typeof w.at === 'number' && Number.isFinite(w.at);
    case 'signal':
      return typeof w.name === 'string';
    case 'child':
      return typeof w.flowId === 'string';
    default:
      return false;
  }
}

const KINDS: ReadonlySet<string> = new Set([
  'step',
  'run',
  'sleep',
  'signal',
  'child',
  'now',
  'random',
  'uuid',
  'dag',
  'patch',
]);
const OPERATION_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'waiting']);

/**
 * A frozen {@link OperationRecord} from a row.
 * @throws STORE_CORRUPT when the row is not one this store wrote (an unknown kind or status,
 *   a position or attempt count out of range): the flow cannot be replayed from it.
 */
export function toOperationRecord(row: HistoryRow): OperationRecord {
  if (
    !Number.isSafeInteger(row.position) ||
    row.position < 0 ||
    !Number.isSafeInteger(row.attempts) ||
    row.attempts < 0 ||
    !KINDS.has(row.kind) ||
    !OPERATION_STATUSES.has(row.status)
  ) {
    throw permanentError(
      ErrorCode.STORE_CORRUPT,
      `flow ${JSON.stringify(row.flow_id)} has an unreadable history record at position ${String(row.position)}: ` +
        'the database was changed outside Ergon; the flow cannot be replayed from it',
      { details: { flowId: row.flow_id, position: row.position } },
    );
  }
  return Object.freeze({
    flowId: row.flow_id,
    position: row.position,
    key: row.key,
    kind: row.kind as OperationRecord['kind'],
    status: row.status as OperationRecord['status'],
    attempts: row.attempts,
    result: row.result ?? undefined,
    error: row.error ?? undefined,
    wakeAt: row.wake_at ?? undefined,
    startedAt: row.started_at,
    finishedAt: row.finished_at ?? undefined,
    seq: row.seq ?? undefined,
  });
}

/** A frozen {@link SignalRecord} from a row. */
export function toSignalRecord(row: SignalRow): SignalRecord {
  return Object.freeze({
    flowId: row.flow_id,
    seq: row.seq,
    name: row.name,
    payload: row.payload,
    sentAt: row.sent_at,
  });
}
