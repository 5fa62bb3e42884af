/**
 * The runtime wrapper's requests about whole flows from any process (signal,
 * cancel, purge), each checked once before the store sees it. Creates go
 * through the write path (`writes.ts`).
 *
 * @module
 */
import type { ExecutionLog } from '../execution-log.js';
import type { CancelRequest, PurgeRequest, SendSignalRequest } from '../flows.js';
import type { FlowRecord } from '../records.js';
import { checkId, checkName, checkPurge, checkText, checkTime } from './validate.js';

/** Checks a signal and passes it on. */
export function signalChecked(inner: ExecutionLog, request: SendSignalRequest): Promise<void> {
  checkId(request?.flowId, 'flow id');
  checkName(request.name, 'signal name');
  checkText(request.payload, 'signal payload');
  checkTime(request.now, 'now');
  return inner.sendSignal(request);
}

/** Checks a cancel request and passes it on. */
export function cancelChecked(inner: ExecutionLog, request: CancelRequest): Promise<FlowRecord> {
  checkId(request?.flowId, 'flow id');
  checkText(request.error, 'cancel reason');
  checkTime(request.now, 'now');
  return inner.requestCancel(request);
}

/** Checks a purge and passes it on; a limit of 0 purges nothing. */
export function purgeChecked(inner: ExecutionLog, request: PurgeRequest): Promise<number> {
  checkPurge(request);
  return request.limit === 0 ? Promise.resolve(0) : inner.purge(request);
}
