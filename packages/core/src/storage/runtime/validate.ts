/**
 * Argument checks of the storage contract, enforced once by the runtime
 * wrapper so stores do not re-check them. Each function throws
 * `InvalidArgumentError` (`INVALID_ARGUMENT`, or `INVALID_ID` for ids) with a
 * message naming the field; none copies its input on the hot path.
 *
 * @module
 */
import { ErrorCode, InvalidArgumentError } from '../../errors.js';
import { validateId } from '../../ids.js';
import { ProgressTooLargeError } from '../errors.js';
import {
  type ClaimRequest,
  type ConsumeSignalRequest,
  type FinishRequest,
  type LeaseRef,
  MAX_CLAIM_LIMIT,
  MAX_PROGRESS_BYTES,
  type NewFlow,
  type NextClaim,
  type ProgressRequest,
  type PurgeRequest,
  type RecordRequest,
  type SuspendRequest,
  type WakeFilter,
} from '../execution-log.js';
import type { FlowStatus, OperationKind, OperationRecord, OperationStatus, Wait } from '../records.js';
import type { WorkerHeartbeat } from '../workers.js';

/** Longest type, queue, key or signal name a store accepts. */
export const MAX_NAME_LENGTH = 1000;

const FLOW_STATUSES: ReadonlySet<string> = new Set<FlowStatus>([
  'pending',
  'running',
  'suspended',
  'completed',
  'failed',
  'cancelled',
]);
const OPERATION_KINDS: ReadonlySet<string> = new Set<OperationKind>([
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
const OPERATION_STATUSES: ReadonlySet<string> = new Set<OperationStatus>(['completed', 'failed', 'waiting']);
const FINISH_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

function invalid(message: string): never {
  throw new InvalidArgumentError(message, { code: ErrorCode.INVALID_ARGUMENT });
}

/** A flow id. */
export function checkId(value: unknown, what: string): void {
  validateId(value, what);
}

/** A non-empty name (type, queue, key, signal name, worker id). */
export function checkName(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) {
    invalid(
      `${what} must be a non-empty string of at most ${MAX_NAME_LENGTH} characters (got ${show(value)})`,
    );
  }
}

/** Encoded text (input, result, error, payload). */
export function checkText(value: unknown, what: string): void {
  if (typeof value !== 'string') invalid(`${what} must be encoded text (got ${typeof value})`);
}

/** Optional encoded text. */
export function checkOptionalText(value: unknown, what: string): void {
  if (value !== undefined) checkText(value, what);
}

/** A time in ms since the epoch (or a duration): a finite number. */
export function checkTime(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value))
    invalid(`${what} must be a finite number of ms (got ${show(value)})`);
}

/** A whole number ≥ `min`. */
export function checkWhole(value: unknown, what: string, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    invalid(`${what} must be a whole number ≥ ${min} (got ${show(value)})`);
  }
}

/** A flow status. */
export function checkStatus(value: unknown, what = 'status'): FlowStatus {
  if (typeof value !== 'string' || !FLOW_STATUSES.has(value)) {
    invalid(`${what} ${show(value)} is not a flow status: use one of ${[...FLOW_STATUSES].join(', ')}`);
  }
  return value as FlowStatus;
}

/** A list of names, non-duplicated. Returns it, or a deduplicated copy. */
export function checkNames(value: unknown, what: string): readonly string[] {
  if (!Array.isArray(value)) invalid(`${what} must be an array of names (got ${show(value)})`);
  for (const name of value) checkName(name, `each of ${what}`);
  return new Set(value).size === value.length ? value : [...new Set(value as string[])];
}

/** A lease reference. */
export function checkLease(lease: LeaseRef): void {
  if (typeof lease !== 'object' || lease === null) invalid('a lease ({ flowId, token }) is required');
  checkId(lease.flowId, 'lease flow id');
  checkWhole(lease.token, 'lease token', 0);
}

/** Input of `createFlow`. */
export function checkNewFlow(flow: NewFlow): void {
  if (typeof flow !== 'object' || flow === null) invalid('createFlow needs a flow');
  checkId(flow.id, 'flow id');
  checkName(flow.type, 'flow type');
  checkName(flow.queue, 'queue');
  checkText(flow.input, 'flow input');
  if (typeof flow.priority !== 'number' || !Number.isSafeInteger(flow.priority)) {
    invalid(`priority must be an integer (got ${show(flow.priority)})`);
  }
  checkTime(flow.runAt, 'runAt');
  checkTime(flow.now, 'now');
  if (flow.parentId !== undefined) checkId(flow.parentId, 'parent flow id');
  checkOptionalText(flow.traceContext, 'trace context');
}

/** Input of `claim`; returns the deduplicated types and queues. */
export function checkClaim(request: ClaimRequest): { types: readonly string[]; queues: readonly string[] } {
  if (typeof request !== 'object' || request === null) invalid('claim needs a request');
  checkName(request.workerId, 'worker id');
  checkWhole(request.limit, 'claim limit', 0);
  checkTime(request.leaseMs, 'leaseMs');
  if (request.leaseMs <= 0) invalid(`leaseMs must be > 0 (got ${request.leaseMs})`);
  checkTime(request.now, 'now');
  if (request.flowId !== undefined) checkId(request.flowId, 'flow id');
  return { types: checkNames(request.types, 'types'), queues: checkNames(request.queues, 'queues') };
}

/** Input of `nextWakeAt`; returns the deduplicated types and queues. */
export function checkWakeFilter(filter: WakeFilter): { types: readonly string[]; queues: readonly string[] } {
  if (typeof filter !== 'object' || filter === null) invalid('nextWakeAt needs { types, queues }');
  return { types: checkNames(filter.types, 'types'), queues: checkNames(filter.queues, 'queues') };
}

/**
 * The record kind and status found valid last: a run's records repeat them, so most checks are
 * one comparison rather than a set look-up. Only ever a valid value, or at first one that no
 * argument can be.
 */
let lastKind: unknown = Symbol('no kind yet');
let lastStatus: unknown = Symbol('no status yet');

/** The names {@link checkRecord} gives a record's fields in its messages. */
interface RecordLabels {
  readonly position: string;
  readonly key: string;
  readonly attempts: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly wakeAt: string;
  readonly seq: string;
  readonly result: string;
  readonly error: string;
}

/**
 * Made once per kind of record (`record`, `signal record`): not nine strings per record checked.
 * Bounded: an import names each record by its index.
 */
const recordLabels = new Map<string, RecordLabels>();
const MAX_RECORD_LABELS = 16;

/** The labels looked up last: a store's records are all `record` (no map look-up per record). */
let lastLabels: RecordLabels | undefined;
let lastLabelsOf: string | undefined;

function labelsOf(what: string): RecordLabels {
  if (what === lastLabelsOf && lastLabels) return lastLabels;
  let labels = recordLabels.get(what);
  if (!labels) {
    labels = {
      position: `${what} position`,
      key: `${what} key`,
      attempts: `${what} attempts`,
      startedAt: `${what} startedAt`,
      finishedAt: `${what} finishedAt`,
      wakeAt: `${what} wakeAt`,
      seq: `${what} seq`,
      result: `${what} result`,
      error: `${what} error`,
    };
    if (recordLabels.size < MAX_RECORD_LABELS) recordLabels.set(what, labels);
  }
  lastLabelsOf = what;
  lastLabels = labels;
  return labels;
}

/** One history record written under `lease`. */
export function checkRecord(lease: LeaseRef, record: Partial<OperationRecord>, what = 'record'): void {
  if (typeof record !== 'object' || record === null) invalid(`${what} is required`);
  if (record.flowId !== lease.flowId) {
    invalid(`${what} belongs to flow ${show(record.flowId)} but the lease is on flow ${show(lease.flowId)}`);
  }
  const label = labelsOf(what);
  checkWhole(record.position, label.position, 0);
  checkName(record.key, label.key);
  const { kind } = record;
  if (typeof kind !== 'string' || (kind !== lastKind && !OPERATION_KINDS.has(kind))) {
    invalid(`${what} kind ${show(kind)} is not one of ${[...OPERATION_KINDS].join(', ')}`);
  }
  lastKind = kind;
  checkWhole(record.attempts, label.attempts, 0);
  checkTime(record.startedAt, label.startedAt);
  if (record.finishedAt !== undefined) checkTime(record.finishedAt, label.finishedAt);
  if (record.wakeAt !== undefined) checkTime(record.wakeAt, label.wakeAt);
  if (record.seq !== undefined) checkWhole(record.seq, label.seq, 0);
  checkOptionalText(record.result, label.result);
  checkOptionalText(record.error, label.error);
}

/** Input of `recordOperation`. */
export function checkRecordRequest(request: RecordRequest): void {
  checkLease(request);
  checkRecord(request, request.record);
  const { status } = request.record;
  if (status === lastStatus) return;
  if (!OPERATION_STATUSES.has(status)) {
    invalid(`record status ${show(status)} is not one of ${[...OPERATION_STATUSES].join(', ')}`);
  }
  lastStatus = status;
}

/** Input of `consumeSignal`. */
export function checkConsume(request: ConsumeSignalRequest): void {
  checkLease(request);
  checkName(request.name, 'signal name');
  checkRecord(request, request.record, 'signal record');
}

/** Input of `suspend`. */
export function checkSuspend(request: SuspendRequest): void {
  checkLease(request);
  checkTime(request.now, 'now');
  if (!Array.isArray(request.waits) || request.waits.length === 0) {
    invalid('suspend needs at least one wait: a flow suspended on nothing would never wake');
  }
  for (const wait of request.waits) checkWait(wait);
}

function checkWait(wait: Wait): void {
  if (typeof wait !== 'object' || wait === null) invalid('each wait must be an object');
  checkWhole(wait.position, 'wait position', 0);
  if (wait.kind === 'timer') checkTime(wait.at, 'timer wait at');
  else if (wait.kind === 'signal') checkName(wait.name, 'signal wait name');
  else if (wait.kind === 'child') checkId(wait.flowId, 'child wait flow id');
  else invalid(`wait kind ${show((wait as { kind?: unknown }).kind)} is not timer, signal or child`);
}

/** Input of `finishFlow`. */
export function checkFinish(request: FinishRequest): void {
  checkLease(request);
  if (!FINISH_STATUSES.has(request.status)) {
    invalid(`finish status must be completed, failed or cancelled (got ${show(request.status)})`);
  }
  checkTime(request.now, 'now');
  checkOptionalText(request.result, 'flow result');
  checkOptionalText(request.error, 'flow error');
  if (request.next !== undefined) checkNext(request.next);
}

/**
 * The last next claim found valid, frozen: a worker's finishes carry one such object for all its
 * runs, so most checks are one comparison.
 */
let lastNext: NextClaim | undefined;

/** A finish's next claim (`FinishRequest.next`): as a claim's, with a limit of at least 1 and names given once. */
function checkNext(next: NextClaim): void {
  if (next === lastNext) return;
  if (typeof next !== 'object' || next === null) invalid('finish next must be a claim or left out');
  checkName(next.workerId, 'worker id');
  checkWhole(next.limit, 'next claim limit', 1);
  if (next.limit > MAX_CLAIM_LIMIT) invalid(`next claim limit must be at most ${MAX_CLAIM_LIMIT} (got ${next.limit})`);
  checkTime(next.leaseMs, 'leaseMs');
  if (next.leaseMs <= 0) invalid(`leaseMs must be > 0 (got ${next.leaseMs})`);
  if (checkNames(next.types, 'types') !== next.types || next.types.length === 0)
    invalid('next claim types must be a non-empty list of names, each once');
  if (checkNames(next.queues, 'queues') !== next.queues || next.queues.length === 0)
    invalid('next claim queues must be a non-empty list of names, each once');
  // Only a frozen claim, whose lists are frozen too, cannot change once checked.
  if (Object.isFrozen(next) && Object.isFrozen(next.types) && Object.isFrozen(next.queues)) lastNext = next;
}

/** Input of `setProgress`. @throws ProgressTooLargeError over {@link MAX_PROGRESS_BYTES}. */
export function checkProgress(request: ProgressRequest): void {
  checkLease(request);
  checkText(request.progress, 'progress');
  checkTime(request.now, 'now');
  // Counting bytes costs a pass over the text: only when its length allows it to be over.
  const { progress } = request;
  const bytes = progress.length * 3 <= MAX_PROGRESS_BYTES ? progress.length : Buffer.byteLength(progress);
  if (bytes > MAX_PROGRESS_BYTES) throw new ProgressTooLargeError(request.flowId, bytes, MAX_PROGRESS_BYTES);
}

/** Input of `heartbeatWorker`. */
export function checkHeartbeat(request: WorkerHeartbeat): void {
  if (typeof request !== 'object' || request === null)
    invalid('heartbeatWorker needs { worker, now, lapseMs }');
  const w = request.worker;
  if (typeof w !== 'object' || w === null) invalid('heartbeatWorker needs a worker');
  checkName(w.id, 'worker id');
  if (w.kind !== 'worker' && w.kind !== 'task')
    invalid(`worker kind must be worker or task (got ${show(w.kind)})`);
  if (w.name !== undefined) checkName(w.name, 'worker name');
  checkName(w.host, 'worker host');
  checkWhole(w.pid, 'worker pid', 0);
  checkNames(w.queues, 'worker queues');
  checkNames(w.types, 'worker types');
  checkWhole(w.concurrency, 'worker concurrency', 0);
  checkTime(w.startedAt, 'worker startedAt');
  checkOptionalText(w.stats, 'worker stats');
  checkTime(request.now, 'now');
  checkTime(request.lapseMs, 'lapseMs');
  if (request.lapseMs <= 0) invalid(`lapseMs must be > 0 (got ${request.lapseMs})`);
}

/** Input of `purge`. */
export function checkPurge(request: PurgeRequest): void {
  if (typeof request !== 'object' || request === null) invalid('purge needs { finishedBefore, limit }');
  checkTime(request.finishedBefore, 'finishedBefore');
  checkWhole(request.limit, 'purge limit', 0);
}

/** A value for a message: short and safe to print. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  return typeof value;
}
