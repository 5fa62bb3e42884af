/**
 * Shared fixtures of the conformance suite.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { ClaimedFlow, NewFlow, OperationRecord, RuntimeExecutionLog, StoreEvent } from '@ergon/core';
import { expect } from 'vitest';

/** Holds the store of the running test, in its runtime wrapper (as the engine uses it). */
export interface SuiteContext {
  store: RuntimeExecutionLog;
}

/** The suite's "now": 2030-01-01T00:00:00Z. Stores must use passed times only. */
export const T0 = Date.UTC(2030, 0, 1);

/** A unique flow id for this test run. */
export function uid(label = 'f'): string {
  return `${label}-${randomUUID()}`;
}

/** A new-flow request with defaults. */
export function newFlow(overrides: Partial<NewFlow> = {}): NewFlow {
  return {
    id: uid(),
    type: 'order',
    queue: 'default',
    input: '["in"]',
    priority: 0,
    runAt: T0,
    now: T0,
    ...overrides,
  };
}

/** Creates a flow and claims exactly it (with a type unique to the flow). */
export async function createAndClaim(
  store: RuntimeExecutionLog,
  overrides: Partial<NewFlow> = {},
  leaseMs = 30_000,
  now = T0,
): Promise<ClaimedFlow> {
  const type = overrides.type ?? uid('type');
  const flow = newFlow({ ...overrides, type });
  await store.createFlow(flow);
  const claimed = await store.claim({
    workerId: 'w1',
    types: [type],
    queues: [flow.queue],
    limit: 1,
    leaseMs,
    now,
  });
  expect(claimed).toHaveLength(1);
  const first = claimed[0];
  if (!first) throw new Error('unreachable');
  return first;
}

/** A history record with defaults. */
export function op(
  flowId: string,
  position: number,
  overrides: Partial<OperationRecord> = {},
): OperationRecord {
  return {
    flowId,
    position,
    key: `step-${position}#0`,
    kind: 'step',
    status: 'completed',
    attempts: 1,
    result: `["r${position}"]`,
    startedAt: T0,
    finishedAt: T0 + 1,
    ...overrides,
  };
}

/** Asserts that the promise rejects with an Ergon error of this code. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}

/** Polls `check` until it returns true or the timeout passes. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A queue and a type, both of one test alone. */
export interface Pair {
  readonly queue: string;
  readonly type: string;
}

/** A queue and a type of this test alone. */
export function newPair(): Pair {
  return { queue: uid('hq'), type: uid('ht') };
}

/** Runs `test` with the store's events as they arrive, subscribed (and settled) first. */
export async function withEvents(
  ctx: SuiteContext,
  test: (events: StoreEvent[]) => Promise<void>,
): Promise<void> {
  const subscribe = ctx.store.subscribe;
  if (!subscribe) throw new Error('the store declares events but has no subscribe');
  const events: StoreEvent[] = [];
  const unsubscribe = subscribe((e) => events.push(e));
  try {
    await new Promise((resolve) => setTimeout(resolve, 20)); // let a remote subscription settle
    await test(events);
  } finally {
    unsubscribe();
  }
}
