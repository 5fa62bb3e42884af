/**
 * What `Executor.execute` and `Executor.resume` report: a union a caller can
 * act on, each case with the data it needs. A flow that already finished
 * returns its recorded outcome (nothing re-runs); one that cannot run now
 * says why (another worker holds it, it is not due, it waits).
 *
 * @module
 */
import { type Codec, type FlowRecord, toError, type Wait } from '@ergon/core';
import { FlowCancelledError } from './errors.js';

/** What one execution produced, or why it could not run. */
export type FlowOutcome<O = unknown> =
  /** The flow completed. `replayed` is true when it had finished before this call (nothing ran). */
  | {
      /** Discriminant. */
      readonly status: 'completed';
      /** The flow's result. */
      readonly result: O;
      /** True when the flow had finished before this call and nothing ran. */
      readonly replayed: boolean;
    }
  /** The flow failed with `error` (its recorded error when `replayed`). */
  | {
      /** Discriminant. */
      readonly status: 'failed';
      /** The error the flow failed with, as its class. */
      readonly error: Error;
      /** True when the flow had failed before this call and nothing ran. */
      readonly replayed: boolean;
    }
  /** The flow was cancelled; `error.reason` is the reason given to `client.cancel`. */
  | {
      /** Discriminant. */
      readonly status: 'cancelled';
      /** The cancellation, with the reason given to `client.cancel`. */
      readonly error: FlowCancelledError | undefined;
      /** True when the flow had been cancelled before this call. */
      readonly replayed: boolean;
    }
  /** The flow waits on timers, signals or children; a worker (or `resume`) continues it when one resolves. */
  | {
      /** Discriminant. */
      readonly status: 'suspended';
      /** What it waits for; it wakes on the first that resolves. */
      readonly waits: readonly Wait[];
    }
  /** Another worker holds the flow's lease until `leaseExpiresAt` (ms since epoch). */
  | {
      /** Discriminant. */
      readonly status: 'running-elsewhere';
      /** The worker that holds it. */
      readonly leaseOwner: string | undefined;
      /** When that lease expires unless renewed (ms since epoch). */
      readonly leaseExpiresAt: number | undefined;
    }
  /** The flow may first run at `runAt` (ms since epoch). */
  | {
      /** Discriminant. */
      readonly status: 'not-due';
      /** When it may first run (ms since epoch). */
      readonly runAt: number;
    }
  /**
   * This run stopped without an outcome: its lease was lost (`error.code` `LEASE_LOST`:
   * another worker took the flow over) or the store failed (`STORE_*`). The flow resumes elsewhere.
   */
  | {
      /** Discriminant. */
      readonly status: 'abandoned';
      /** Why: a `LEASE_LOST` or `STORE_*` error. */
      readonly error: Error;
    };

/** The outcome of a flow that this call could not claim (or that ended cancelled), read from its record. */
export function recordedOutcome<O>(
  flow: FlowRecord,
  codec: Codec,
  now: number,
  replayed = true,
): FlowOutcome<O> {
  switch (flow.status) {
    case 'completed':
      return { status: 'completed', result: decode(codec, flow.result) as O, replayed };
    case 'failed':
      return { status: 'failed', error: toError(decode(codec, flow.error)), replayed };
    case 'cancelled': {
      const error = decode(codec, flow.error);
      return {
        status: 'cancelled',
        error: error instanceof FlowCancelledError ? error : new FlowCancelledError(flow.id),
        replayed,
      };
    }
    case 'suspended':
      return { status: 'suspended', waits: flow.waits };
    case 'running':
      return {
        status: 'running-elsewhere',
        leaseOwner: flow.leaseOwner,
        leaseExpiresAt: flow.leaseExpiresAt,
      };
    case 'pending':
      // Claimable at its runAt; a pending flow that was due lost a race to another claimer.
      return flow.runAt !== undefined && flow.runAt > now
        ? { status: 'not-due', runAt: flow.runAt }
        : { status: 'running-elsewhere', leaseOwner: flow.leaseOwner, leaseExpiresAt: flow.leaseExpiresAt };
  }
}

function decode(codec: Codec, text: string | undefined): unknown {
  return text === undefined ? undefined : codec.decode(text);
}
