import { type Clock, type ExecutionLog, systemClock } from '@ergon/core';
import { FakeClock } from '@ergon/testing';
import { afterEach, beforeEach } from 'vitest';
import { Client, type FlowSource, Worker, type WorkerOptions } from '../src/index.js';
import { createTestStore } from './stores.js';

/**
 * A fresh store (of the kind `ERGON_TEST_STORE` names), a client and workers
 * for each test; everything stops and is removed after the test.
 */
export function harness(options: { fake?: boolean } = {}) {
  let store: ExecutionLog | undefined;
  let dispose: (() => Promise<void>) | undefined;
  let clock: Clock = systemClock;
  let client: Client | undefined;
  const workers: Worker[] = [];
  beforeEach(async () => {
    ({ store, dispose } = await createTestStore());
    clock = options.fake ? new FakeClock() : systemClock;
    client = new Client({ store, clock });
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop({ timeout: '1s' })));
    workers.length = 0;
    await dispose?.();
  });
  return {
    get store(): ExecutionLog {
      if (!store) throw new Error('harness store is only available inside a test');
      return store;
    },
    get clock() {
      return clock;
    },
    get fakeClock() {
      return clock as FakeClock;
    },
    get client(): Client {
      if (!client) throw new Error('harness client is only available inside a test');
      return client;
    },
    startWorker(flows: readonly FlowSource[], extra: Partial<WorkerOptions> = {}) {
      const worker = new Worker({ store: this.store, flows, clock, maxIdle: '20ms', lease: '2s', ...extra });
      workers.push(worker.start());
      return worker;
    },
  };
}

/** Waits (real time) until `check` holds. */
export async function until(
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

/**
 * Wraps a store so that a test can "freeze" the process that uses it: after
 * `freeze()`, every call hangs forever, as if the process stopped dead. With
 * `freezeAfterRecord`, the freeze happens right after that position is written.
 */
export function freezable(
  store: ExecutionLog,
  options: { freezeAfterRecord?: (position: number) => boolean } = {},
) {
  let frozen = false;
  const never = new Promise<never>(() => {});
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (frozen) return never;
        const result = value.apply(target, args);
        if (property === 'recordOperation' && options.freezeAfterRecord) {
          const position = (args[1] as { position: number }).position;
          return Promise.resolve(result).then((r) => {
            if (options.freezeAfterRecord?.(position)) {
              frozen = true;
              return never;
            }
            return r;
          });
        }
        return result;
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

export { systemClock };
