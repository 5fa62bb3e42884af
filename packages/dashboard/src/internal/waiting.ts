/**
 * Why a flow waits (flow control), for people: the reason the Client reports
 * (`waitingFor`) in words, and for one flow the limit it waits on with what
 * counts against it now, read from the store's queue state.
 *
 * @module
 */
import type { WaitingFor } from '@ergon/core';
import type { Client } from '@ergon/executor';
import type { WaitingReason, WaitingView } from '../control-types.js';

const TEXT: Readonly<Record<WaitingFor, string>> = {
  'queue-concurrency': 'queue concurrency limit',
  'rate-limit': 'queue rate limit',
  'key-concurrency': 'key concurrency limit',
  debounce: 'debounce (gathering calls)',
};

/** The reason in words (`queue concurrency limit`). */
export function reasonText(reason: WaitingFor): string {
  return TEXT[reason] ?? reason;
}

/** The reason with its words; undefined for none. */
export function waitingReason(reason: WaitingFor | undefined): WaitingReason | undefined {
  return reason === undefined ? undefined : { reason, text: reasonText(reason) };
}

/** The flow fields {@link waitingView} reads. */
export interface WaitingFlow {
  readonly id: string;
  readonly queue: string;
  readonly runAt?: number | undefined;
  readonly waitingFor?: WaitingFor | undefined;
}

/**
 * Why `flow` waits, with the limit and the counts behind it (its concurrency key read from
 * its record). Undefined when it does not wait on flow control.
 */
export async function waitingView(client: Client, flow: WaitingFlow): Promise<WaitingView | undefined> {
  const reason = waitingReason(flow.waitingFor);
  if (!reason) return undefined;
  const base = { ...reason, queue: flow.queue };
  if (reason.reason === 'debounce') return { ...base, runAt: flow.runAt };
  const record = await client.store.getFlow(flow.id);
  const key = record?.concurrencyKey;
  const state = await client.queues.state(flow.queue, key);
  const limits = state.limits;
  if (reason.reason === 'queue-concurrency')
    return { ...base, key, running: state.running, limit: limits?.concurrency };
  if (reason.reason === 'rate-limit')
    return {
      ...base,
      key,
      recentStarts: state.recentStarts,
      limit: limits?.rate?.limit,
      periodMs: limits?.rate?.periodMs,
    };
  return {
    ...base,
    key,
    running: state.keyRunning,
    limit: record?.concurrencyLimit ?? limits?.keyConcurrency,
  };
}
