/**
 * A request's `signal` in the runtime wrapper: it aborts the wait for the
 * store with `ABORTED` (a write already sent may still take effect).
 *
 * @module
 */
import { ErgonError, ErrorCode } from '../../errors.js';

/** The error of a wait for the store that `signal` aborted. */
export function abortError(action: string, signal: AbortSignal): ErgonError {
  return new ErgonError(ErrorCode.ABORTED, `${action} was aborted while waiting for the store`, {
    cause: signal.reason,
  });
}

/** `promise`, or `ABORTED` as soon as `signal` aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, action: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(action, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
