/**
 * A suite's stores on the shared Redis: each test's stores closed and their keys deleted after
 * it, and one admin client for the suite to look at keys with.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { BatchWrite, ClaimedFlow, FinishStatus } from '@ergon/core';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { RedisExecutionLog } from '../index.js';
import { disposeStore, openStore, REDIS_URL, randomPrefix } from './support.js';

export interface StoreFixture {
  /** Opens a store on `prefix` (a fresh random one by default), disposed after the test. */
  open(prefix?: string): Promise<RedisExecutionLog>;
  /** The suite's admin client (open between beforeAll and afterAll). */
  admin(): Redis;
}

/** Registers the suite's hooks; call it at the top of a `describe`. */
export function storeFixture(): StoreFixture {
  let admin: Redis | undefined;
  const stores: RedisExecutionLog[] = [];
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await disposeStore(store);
  });
  afterAll(() => {
    admin?.disconnect();
  });
  return {
    async open(prefix = randomPrefix()) {
      const store = await openStore({ prefix });
      stores.push(store);
      return store;
    },
    admin() {
      if (!admin) throw new Error('the admin client is open only inside the suite');
      return admin;
    },
  };
}

/** A new flow of type `order` in queue `default`, due at `at` (created then too), with `overrides`. */
export function newFlow(
  at: number,
  overrides: {
    id?: string;
    type?: string;
    queue?: string;
    runAt?: number;
    priority?: number;
    now?: number;
  } = {},
) {
  return {
    id: `f-${randomUUID()}`,
    type: 'order',
    queue: 'default',
    input: '[1]',
    priority: 0,
    runAt: at,
    now: at,
    ...overrides,
  };
}

/**
 * A step's record (position 0, result `result`) then the flow's finish with `status`, as one
 * batch of writes (apply-writes' pair entries); a completed flow gets `result` too.
 */
export function recordAndFinish(
  claimed: ClaimedFlow,
  status: FinishStatus,
  now: number,
  result = '[1]',
): BatchWrite[] {
  const { flow, token } = claimed;
  return [
    {
      op: 'record',
      request: {
        flowId: flow.id,
        token,
        record: {
          status: 'completed',
          flowId: flow.id,
          position: 0,
          key: 'a#0',
          kind: 'run',
          attempts: 1,
          result,
          startedAt: now,
          finishedAt: now,
        },
      },
    },
    {
      op: 'finish',
      request: { flowId: flow.id, token, status, result: status === 'completed' ? result : undefined, now },
    },
  ];
}
