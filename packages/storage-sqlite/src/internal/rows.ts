/**
 * Rows to records. Encoded values (`input`, `result`, `error`,
 * payloads) pass through as text and are never decoded here; `waits` is the
 * store's own JSON and is checked when read.
 *
 * @module
 */
import {
  ErrorCode,
  type FlowRecord,
  type FlowStatus,
  type OperationRecord,
  type SignalRecord,
  type StoreEvent,
  type Wait,
} from '@ergon/core';
import type { Selectable } from 'kysely';
import { permanentError } from './errors.js';
import type { FeedEntry } from './feed-reader.js';
import type { EventRow } from './queries.js';
import type { FlowsTable, HistoryTable, SignalsTable } from './schema.js';

/** A flow row as read (the generated column may be present or not). */
export type FlowRow = Omit<Selectable<FlowsTable>, 'wake_at'>;

/** A history row as read (without its key). */
export type HistoryRow = Omit<Selectable<HistoryTable>, 'id'>;

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
  return Object.freeze({
    id: row.id,
    type: row.type,
    queue: row.queue,
    status: row.status as FlowStatus,
    priority: row.priority,
    input: row.input,
    result: row.result ?? undefined,
    error: row.error ?? undefined,
    parentId: row.parent_id ?? undefined,
    runAt: row.run_at ?? undefined,
    fencingToken: row.fencing_token,
    leaseOwner: row.lease_owner ?? undefined,
    leaseExpiresAt: row.lease_expires_at ?? undefined,
    waits,
    cancelRequested: row.cancel_requested !== 0,
    runCount: row.run_count,
    abandonedRuns: row.abandoned_runs ?? 0,
    lastError: row.last_error ?? undefined,
    damage,
    progress: row.progress ?? undefined,
    progressAt: row.progress_at ?? undefined,
    traceContext: row.trace_context ?? undefined,
    concurrencyKey: row.concurrency_key ?? undefined,
    concurrencyLimit: row.concurrency_limit ?? undefined,
    debounceKey: row.debounce_key ?? undefined,
    fairTag: row.fair_tag ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at ?? undefined,
  });
}

/** The waits of a flow row. @throws STORE_CORRUPT when the text is not a JSON array of waits. */
export function parseWaits(text: string, flowId: string): readonly Wait[] {
  if (text === '[]') return EMPTY_WAITS;
  let waits: unknown;
  try {
    waits = JSON.parse(text);
  } catch (error) {
    throw corruptWaits(flowId, error);
  }
  if (!Array.isArray(waits) || !waits.every(isWait)) throw corruptWaits(flowId);
  return Object.freeze(waits.map((w: Wait) => Object.freeze(w)));
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

function corruptWaits(flowId: string, cause?: unknown): Error {
  return permanentError(
    ErrorCode.STORE_CORRUPT,
    `flow ${JSON.stringify(flowId)} has unreadable waits: the database was changed outside Ergon`,
    { cause, details: { flowId } },
  );
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
 * @throws STORE_CORRUPT when the row is not one this store wrote (a field of the wrong type or
 *   an unknown kind or status): the flow cannot be replayed from it.
 */
export function toOperationRecord(row: HistoryRow): OperationRecord {
  if (
    !Number.isInteger(row.position) ||
    !Number.isInteger(row.attempts) ||
    typeof row.key !== 'string' ||
    !KINDS.has(row.kind) ||
    !OPERATION_STATUSES.has(row.status) ||
    typeof row.started_at !== 'number'
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

/** The change-feed entries of a row; none for a row this code does not understand. */
export function toFeedEntry(row: EventRow): FeedEntry[] {
  if (row.type !== 'batch') {
    const event = toEvent(row.type, row.queue, row.flow_id, row.status, row.at);
    return event ? [{ seq: row.seq, origin: row.origin, event }] : [];
  }
  let tuples: unknown;
  try {
    tuples = JSON.parse(row.batch ?? '');
  } catch {
    return [];
  }
  if (!Array.isArray(tuples)) return [];
  const entries: FeedEntry[] = [];
  for (const tuple of tuples) {
    if (!Array.isArray(tuple)) continue;
    const [type, queue, flowId, status, at] = tuple as unknown[];
    const event = toEvent(type, queue, flowId, status, at);
    if (event) entries.push({ seq: row.seq, origin: row.origin, event });
  }
  return entries;
}

/** An event's fields as the feed stores them (a row's columns, or a tuple of a batch). */
export function feedFields(
  event: StoreEvent,
): [string, string | null, string | null, string | null, number | null] {
  if (event.type === 'ready') return [event.type, event.queue, null, null, event.at ?? null];
  if (event.type === 'finished') return [event.type, null, event.flowId, event.status, null];
  return [event.type, null, event.flowId, null, null];
}

function toEvent(
  type: unknown,
  queue: unknown,
  flowId: unknown,
  status: unknown,
  at: unknown,
): StoreEvent | undefined {
  if (type === 'ready' && typeof queue === 'string') {
    return { type: 'ready', queue, at: typeof at === 'number' ? at : undefined };
  }
  if (typeof flowId !== 'string') return undefined;
  if (type === 'finished' && typeof status === 'string')
    return { type, flowId, status: status as FlowStatus };
  if (type === 'cancel-requested' || type === 'progress') return { type, flowId };
  return undefined;
}
