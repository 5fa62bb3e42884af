/**
 * Helpers to drive flows and stores in tests: wait for a condition, and
 * simulate a process that stops dead (a crash without killing the test).
 *
 * @module
 */
import type { BatchWrite, ExecutionLog, RecordRequest } from '@ergon/core';

/**
 * Polls `check` (real time) until it holds.
 * @throws Error naming `what` when `timeoutMs` passes first.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Options of {@link freezableStore}. */
export interface FreezableOptions {
  /** Freeze right after the history record at this position is written (return true to freeze). */
  readonly freezeAfterRecord?: (position: number) => boolean;
}

/** A store wrapper that can "freeze" like a process stopped dead. */
export interface FreezableStore {
  /** Use this where the process under test would use its store. */
  readonly store: ExecutionLog;
  /** From now on, every call hangs forever (no reply, no error, no heartbeat). */
  freeze(): void;
  /** True once frozen. */
  readonly frozen: boolean;
}

/**
 * Wraps a store so that a test can stop a worker as if its process died: after
 * `freeze()` (or the chosen write), every call on the wrapper hangs forever,
 * while the real store stays usable by everyone else. Its leases then expire
 * and other workers take its flows over.
 */
export function freezableStore(store: ExecutionLog, options: FreezableOptions = {}): FreezableStore {
  let frozen = false;
  const never = new Promise<never>(() => {});
  const proxy = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (frozen) return never;
        const result = value.apply(target, args);
        const freezeAfter = options.freezeAfterRecord;
        if (!freezeAfter) return result;
        // Records come one by one, or in batches when the runtime wrapper coalesces writes.
        let positions: number[];
        if (property === 'recordOperation') positions = [(args[0] as RecordRequest).record.position];
        else if (property === 'applyWrites')
          positions = (args[0] as BatchWrite[]).flatMap((w) =>
            w.op === 'record' ? [w.request.record.position] : [],
          );
        else return result;
        return Promise.resolve(result).then((written) => {
          // Every position is offered (a predicate may count them), then the process dies.
          if (positions.map((p) => freezeAfter(p)).includes(true)) {
            frozen = true;
            return never;
          }
          return written;
        });
      };
    },
  });
  return {
    store: proxy,
    freeze: () => {
      frozen = true;
    },
    get frozen() {
      return frozen;
    },
  };
}
