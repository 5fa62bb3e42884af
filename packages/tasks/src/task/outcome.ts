/**
 * What happened to one transaction, and to one run.
 *
 * @module
 */
import type { Stage } from './context.js';

/** How the transaction was settled with its connector. `none`: not settled (no ack/nack, opted out, or a producer). */
export type Settlement = 'ack' | 'requeue' | 'dead-letter' | 'none';

/** The lifecycle outcome of one transaction (or, for a producer, one item). */
export interface TransactionOutcome<R = unknown> {
  /** The transaction's id; undefined for a producer item that failed before it became one. */
  readonly transactionId: string | undefined;
  /**
   * `succeeded`: process (and dispatch) and success handler finished.
   * `failed`: a stage failed for good; the exception handler ran.
   * `aborted`: shutdown stopped it first; it was requeued.
   */
  readonly status: 'succeeded' | 'failed' | 'aborted';
  /** The process stage's result (for hybrids: the dispatched transactions). */
  readonly result?: R;
  /** Why it failed or was aborted. */
  readonly error?: Error;
  /** The stage whose failure decided the outcome. */
  readonly failedStage?: Stage;
  /** The stages that ran, in order. */
  readonly stages: readonly Stage[];
  /** Attempts per stage that ran. */
  readonly attempts: Readonly<Partial<Record<Stage, number>>>;
  /** How it was settled with its connector. */
  readonly settlement: Settlement;
  /** Set when acking or nacking itself failed (the transport will redeliver). */
  readonly settleError?: Error;
  /** Time from the start of its lifecycle to its settlement. */
  readonly durationMs: number;
}

/** Why a run ended. */
export type RunEndReason = 'drained' | 'limit' | 'timeout' | 'stopped' | 'failed';

/** Totals of one run of a task. */
export interface RunSummary {
  /** The task's name. */
  readonly task: string;
  /** Why the run ended. */
  readonly reason: RunEndReason;
  /** Transactions (items) whose lifecycle ran. */
  readonly processed: number;
  /** Lifecycles that succeeded. */
  readonly succeeded: number;
  /** Lifecycles that failed (exception handler ran). */
  readonly failed: number;
  /** Requeued by shutdown before they finished. */
  readonly aborted: number;
  /** Fetch calls (consumers and hybrids). */
  readonly fetches: number;
  /** Wall time of the run. */
  readonly durationMs: number;
  /** Set when the run itself failed (fetch retries exhausted, a connector would not start). */
  readonly error?: Error;
  /** Threaded model: worker threads created, and terminated because work overran. */
  readonly threads?: {
    /** Worker threads started (the pool's, and replacements). */
    readonly created: number;
    /** Threads terminated because their work overran a timeout or a shutdown deadline. */
    readonly terminated: number;
  };
  /** Process pool: one summary per worker process. */
  readonly workers?: readonly WorkerSummary[];
}

/** One process of a pool. */
export interface WorkerSummary {
  /** Its index in the pool. */
  readonly index: number;
  /** Its process id. */
  readonly pid: number | undefined;
  /** Its exit code (null when killed by a signal). */
  readonly exitCode: number | null;
  /** The signal that ended it, if any. */
  readonly signal: string | null;
  /** How many times a process of this slot died and was replaced; `pid`, `exitCode` and `signal` are the last one's. */
  readonly restarts: number;
  /** The child's own summary; missing when it died without reporting. */
  readonly summary?: RunSummary;
}
