/**
 * The runtime wrapper's check of an import (`import-flow.ts`): the whole flow
 * record, every history record and signal, validated once, so stores only
 * write them. A store without the primitive is refused with a clear message.
 *
 * @module
 */
import { ErrorCode, InvalidArgumentError } from '../../errors.js';
import type { ExecutionLog } from '../execution-log.js';
import type { FlowImporter, ImportFlowRequest, ImportFlowResult } from '../import-flow.js';
import type { Wait } from '../records.js';
import {
  checkId,
  checkName,
  checkOptionalText,
  checkRecord,
  checkStatus,
  checkText,
  checkTime,
  checkWhole,
  show,
} from './validate.js';

function invalid(message: string): never {
  throw new InvalidArgumentError(message, { code: ErrorCode.INVALID_ARGUMENT });
}

const OPERATION_STATUSES: ReadonlySet<unknown> = new Set(['completed', 'failed', 'waiting']);

function checkWaits(waits: unknown): void {
  if (!Array.isArray(waits)) invalid(`imported flow waits must be an array (got ${show(waits)})`);
  for (const wait of waits as Wait[]) {
    if (typeof wait !== 'object' || wait === null) invalid('each imported wait must be an object');
    checkWhole(wait.position, 'wait position', 0);
    if (wait.kind === 'timer') checkTime(wait.at, 'timer wait at');
    else if (wait.kind === 'signal') checkName(wait.name, 'signal wait name');
    else if (wait.kind === 'child') checkId(wait.flowId, 'child wait flow id');
    else invalid(`wait kind ${show((wait as { kind?: unknown }).kind)} is not timer, signal or child`);
  }
}

/** Checks an import request. */
export function checkImportFlow(request: ImportFlowRequest): void {
  if (typeof request !== 'object' || request === null)
    invalid('importFlow needs { flow, history, signals, now }');
  const { flow } = request;
  if (typeof flow !== 'object' || flow === null) invalid('importFlow needs a flow record');
  checkId(flow.id, 'flow id');
  checkName(flow.type, 'flow type');
  checkName(flow.queue, 'queue');
  checkStatus(flow.status, 'imported flow status');
  if (typeof flow.priority !== 'number' || !Number.isSafeInteger(flow.priority))
    invalid(`priority must be a whole number (got ${show(flow.priority)})`);
  checkText(flow.input, 'flow input');
  checkOptionalText(flow.result, 'flow result');
  checkOptionalText(flow.error, 'flow error');
  checkOptionalText(flow.lastError, 'flow lastError');
  checkOptionalText(flow.progress, 'flow progress');
  checkOptionalText(flow.traceContext, 'flow trace context');
  if (flow.parentId !== undefined) checkId(flow.parentId, 'parent id');
  if (flow.leaseOwner !== undefined) checkName(flow.leaseOwner, 'lease owner');
  for (const [value, what] of [
    [flow.runAt, 'runAt'],
    [flow.leaseExpiresAt, 'leaseExpiresAt'],
    [flow.progressAt, 'progressAt'],
    [flow.finishedAt, 'finishedAt'],
  ] as const) {
    if (value !== undefined) checkTime(value, `flow ${what}`);
  }
  checkTime(flow.createdAt, 'flow createdAt');
  checkTime(flow.updatedAt, 'flow updatedAt');
  checkWhole(flow.fencingToken, 'fencing token', 0);
  checkWhole(flow.runCount, 'run count', 0);
  if (flow.abandonedRuns !== undefined) checkWhole(flow.abandonedRuns, 'abandoned runs', 0);
  if (typeof flow.cancelRequested !== 'boolean') invalid('flow cancelRequested must be a boolean');
  checkWaits(flow.waits);
  if (!Array.isArray(request.history)) invalid('importFlow needs a history array (may be empty)');
  const positions = new Set<number>();
  const lease = { flowId: flow.id, token: 0 };
  for (const [i, record] of request.history.entries()) {
    checkRecord(lease, record, `history record ${i}`);
    if (!OPERATION_STATUSES.has(record.status))
      invalid(`history record ${i} status ${show(record.status)} is not completed, failed or waiting`);
    if (positions.has(record.position)) invalid(`history has two records at position ${record.position}`);
    positions.add(record.position);
  }
  if (!Array.isArray(request.signals)) invalid('importFlow needs a signals array (may be empty)');
  for (const [i, signal] of request.signals.entries()) {
    if (typeof signal !== 'object' || signal === null) invalid(`signal ${i} must be an object`);
    checkName(signal.name, `signal ${i} name`);
    checkText(signal.payload, `signal ${i} payload`);
    checkTime(signal.sentAt, `signal ${i} sentAt`);
  }
  checkTime(request.now, 'now');
}

/** True when `store` implements the import primitive. */
export function canImport(store: ExecutionLog): store is ExecutionLog & FlowImporter {
  return typeof (store as Partial<FlowImporter>).importFlow === 'function';
}

/** Checks `request` and imports it into `store`. @throws InvalidArgumentError for a bad request or a store without imports. */
export function importChecked(store: ExecutionLog, request: ImportFlowRequest): Promise<ImportFlowResult> {
  checkImportFlow(request);
  if (!canImport(store)) {
    invalid(
      `the ${store.name} store cannot import flows (it has no importFlow); fork and import need a store that has it ` +
        '(memory, sqlite, redis, postgres)',
    );
  }
  return store.importFlow(request);
}
