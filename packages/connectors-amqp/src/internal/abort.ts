/**
 * Giving up waiting for work that goes on: the caller's signal ends its wait,
 * not the work (a connection being opened is shared by every caller).
 *
 * @module
 */
import { ErgonError, ErrorCode } from '@ergon/core';

/** `work`, or an `ABORTED` error as soon as `signal` aborts (the work itself goes on). */
export function untilAborted(work: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return work;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () =>
      reject(new ErgonError(ErrorCode.ABORTED, 'amqp: start was aborted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
