/**
 * Abort and timeout helpers: every wait in the runner ends early on its signal.
 *
 * @module
 */
import { toError } from '@ergon/core';

/** Sleeps `ms`; resolves false (never throws) when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles with `work`, or rejects with the signal's reason as soon as it
 * aborts. The abandoned work keeps running (JavaScript cannot stop it) but its
 * late failure is swallowed here, so it never becomes an unhandled rejection.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(toError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(toError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(toError(error));
      },
    );
  });
}

/** A controller that aborts with `reason()` after `ms` (never when `ms` is undefined), plus its cleanup. */
export function timeoutController(
  ms: number | undefined,
  reason: () => Error,
  parents: readonly AbortSignal[] = [],
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer = ms === undefined ? undefined : setTimeout(() => controller.abort(reason()), ms);
  const unlink = parents.map((parent) => {
    const onAbort = () => controller.abort(parent.reason);
    if (parent.aborted) onAbort();
    else parent.addEventListener('abort', onAbort, { once: true });
    return () => parent.removeEventListener('abort', onAbort);
  });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      for (const off of unlink) off();
    },
  };
}
