/**
 * The poison rule: what happens to a run that cannot go on because a store
 * call failed, so that no flow stays `running` forever without a visible
 * reason (DESIGN §2.7).
 *
 * - A lost lease: nothing; the flow belongs to another worker.
 * - A non-transient cause (`STORE_CORRUPT`, a refused value, ...: an error
 *   whose code no retry can fix) fails the flow at once with that cause,
 *   while the lease is still held. The store lets `finishFlow(failed)`
 *   succeed even when the flow's history is damaged.
 * - A transient cause (`STORE_UNAVAILABLE`, anything unknown), or a finish
 *   that failed: the lease is released with the cause and a backoff, so the
 *   flow's record says why it is not progressing (`lastError`,
 *   `abandonedRuns`, `runAt`) and it is retried later, not at once.
 * - When even that write fails, the lease simply expires; the store counts
 *   the abandoned run at the next claim. A claimer that finds a flow whose
 *   last {@link DEFAULT_MAX_ABANDONED_RUNS} runs were abandoned, the last for
 *   a non-transient cause, fails it with that cause before running it.
 *
 * @module
 */
import {
  type Clock,
  type Codec,
  ErrorCode,
  type FlowRecord,
  hasErrorCode,
  isErgonError,
  type LeaseRef,
  type Logger,
  type RuntimeExecutionLog,
  toError,
} from '@ergon/core';
import { encodeError } from './encode-error.js';

/** Runs abandoned in a row, the last for a non-transient cause, after which a claimer fails the flow. */
export const DEFAULT_MAX_ABANDONED_RUNS = 3;

/** The first backoff of a flow released after a transient failure. */
const FIRST_BACKOFF_MS = 1000;
/** The longest backoff. */
const MAX_BACKOFF_MS = 60_000;

/** True when another run cannot fix `error`: its code says so (and it is not a lost lease or an abort). */
export function isPermanentFailure(error: unknown): boolean {
  if (!isErgonError(error)) return false;
  if (error.code === ErrorCode.LEASE_LOST || error.code === ErrorCode.ABORTED) return false;
  return !error.isRetryable();
}

/** True when `error` means another worker holds the flow now. */
export function isLeaseLost(error: unknown): boolean {
  return hasErrorCode(error, ErrorCode.LEASE_LOST);
}

/**
 * The delay before a flow released after its `abandonedRuns`-th abandoned run may run again:
 * 1 s, doubling, at most a minute, jittered down by up to a fifth.
 */
export function retryDelay(abandonedRuns: number, random: () => number = Math.random): number {
  const base = Math.min(FIRST_BACKOFF_MS * 2 ** Math.max(0, abandonedRuns), MAX_BACKOFF_MS);
  return Math.round(base * (1 - 0.2 * random()));
}

/**
 * The cause a claimer must fail `flow` with before running it, or undefined: its last
 * `limit` runs were abandoned and the last recorded cause cannot be fixed by another run.
 */
export function poisonCause(flow: FlowRecord, codec: Codec, limit: number): Error | undefined {
  if ((flow.abandonedRuns ?? 0) < limit || flow.lastError === undefined) return undefined;
  let cause: unknown;
  try {
    cause = codec.decode(flow.lastError, `last error of flow ${flow.id}`);
  } catch (error) {
    // An unreadable cause is itself a permanent one.
    return toError(error);
  }
  return isPermanentFailure(cause) ? toError(cause) : undefined;
}

/** What {@link giveUp} needs. */
export interface GiveUpContext {
  readonly store: RuntimeExecutionLog;
  readonly codec: Codec;
  readonly clock: Clock;
  readonly log: Logger;
  readonly lease: LeaseRef;
  readonly flow: FlowRecord;
}

/** How a run that could not go on ended. */
export type GiveUpResult =
  /** The flow was failed with the cause. */
  | { readonly status: 'failed'; readonly error: Error }
  /** The run was abandoned; `released` when the store now shows why and when it retries. */
  | { readonly status: 'abandoned'; readonly error: Error; readonly released: boolean };

/**
 * Applies the poison rule to a run that stopped on `cause`. `finishFailed` says the
 * cause is a failed finish: the flow is then released, not finished again.
 */
export async function giveUp(
  context: GiveUpContext,
  cause: unknown,
  finishFailed = false,
): Promise<GiveUpResult> {
  const { store, codec, clock, log, lease, flow } = context;
  const error = toError(cause);
  if (isLeaseLost(error)) return { status: 'abandoned', error, released: false };
  if (isPermanentFailure(error) && !finishFailed) {
    try {
      await store.finishFlow({
        ...lease,
        status: 'failed',
        error: encodeError(codec, error),
        now: clock.now(),
      });
      log.error('flow failed: the store cannot serve it', { error: error.message });
      return { status: 'failed', error };
    } catch (finishError) {
      if (isLeaseLost(finishError)) return { status: 'abandoned', error, released: false };
      log.warn('could not fail the flow; releasing it with the cause', {
        error: error.message,
        finishError: toError(finishError).message,
      });
    }
  }
  const now = clock.now();
  const retryAt = now + retryDelay(flow.abandonedRuns ?? 0);
  try {
    await store.releaseLease({ ...lease, now, error: encodeError(codec, error), retryAt });
    log.warn('flow run abandoned; it retries later', { error: error.message, retryAt });
    return { status: 'abandoned', error, released: true };
  } catch (releaseError) {
    log.warn('flow run abandoned; its lease will expire', {
      error: error.message,
      releaseError: toError(releaseError).message,
    });
    return { status: 'abandoned', error, released: false };
  }
}
