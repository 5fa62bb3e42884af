import { type ClaimRequest, type Clock, type ExecutionLog, systemClock } from '@ergon/core';
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

/** The flow ids each claim of `store` returned from now on, by worker. */
export function countClaims(store: ExecutionLog): Map<string, string[]> {
  const claimed = new Map<string, string[]>();
  const claim = store.claim.bind(store);
  store.claim = async (request: ClaimRequest) => {
    const flows = await claim(request);
    claimed.set(request.workerId, [...(claimed.get(request.workerId) ?? []), ...flows.map((c) => c.flow.id)]);
    return flows;
  };
  return claimed;
}

export { eventually as until, freezableStore as freezable } from '@ergon/testing';
