/**
 * The runtime wrapper's worker registry calls (`workers.ts` of the contract),
 * each checked once before the store sees it.
 *
 * @module
 */
import { ErgonError, ErrorCode } from '../../errors.js';
import type { ExecutionLog } from '../execution-log.js';
import type { HeartbeatResult, RemoveWorkerRequest, WorkerHeartbeat } from '../workers.js';
import { checkHeartbeat, checkName, checkTime } from './validate.js';

/** Checks a heartbeat and passes it on. */
export function heartbeatChecked(inner: ExecutionLog, request: WorkerHeartbeat): Promise<HeartbeatResult> {
  checkHeartbeat(request);
  return inner.heartbeatWorker(request);
}

/** Checks a removal and passes it on. */
export function removeWorkerChecked(inner: ExecutionLog, request: RemoveWorkerRequest): Promise<number> {
  checkName(request?.workerId, 'worker id');
  checkTime(request.now, 'now');
  if (typeof request.expireLeases !== 'boolean') {
    throw new ErgonError(ErrorCode.INVALID_ARGUMENT, 'removeWorker needs expireLeases: true or false');
  }
  return inner.removeWorker(request);
}
