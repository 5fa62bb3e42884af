/**
 * A spy on a real store's progress writes, for the progress suites: every
 * `setProgress` a worker sends (decoded), and how many were in flight at once.
 * The store itself answers every call.
 */
import { defaultCodec, type ExecutionLog, type ProgressRequest } from '@ergon/core';

/** The real store, and what its progress writes were. */
export interface ProgressSpy {
  /** Use this where a worker would use its store. */
  readonly store: ExecutionLog;
  /** Each value sent to `setProgress`, decoded, in order (refused ones too). */
  readonly written: unknown[];
  /** The most `setProgress` calls of one flow that were in flight at the same time. */
  readonly maxInFlight: number;
}

/** Wraps `store` to watch its progress writes. */
export function spyProgress(store: ExecutionLog): ProgressSpy {
  const written: unknown[] = [];
  const inFlight = new Map<string, number>();
  let maxInFlight = 0;
  const proxy = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property !== 'setProgress') return typeof value === 'function' ? value.bind(target) : value;
      return async (request: ProgressRequest) => {
        const now = (inFlight.get(request.flowId) ?? 0) + 1;
        inFlight.set(request.flowId, now);
        maxInFlight = Math.max(maxInFlight, now);
        written.push(defaultCodec.decode(request.progress));
        try {
          return await target.setProgress(request);
        } finally {
          inFlight.set(request.flowId, (inFlight.get(request.flowId) ?? 1) - 1);
        }
      };
    },
  });
  return {
    store: proxy,
    written,
    get maxInFlight() {
      return maxInFlight;
    },
  };
}
