/**
 * What the simulation checks after every seed, and how a broken invariant is
 * reported.
 *
 * @module
 */

/** Every invariant the checker holds a run to. */
export const Invariant = {
  /** Every accepted flow ends terminal once faults stop (or stays visibly waiting). */
  TERMINAL: 'terminal-or-pending',
  /** A finished flow's status and result are what its script allows. */
  OUTCOME: 'outcome',
  /** A history position gets its final record once. */
  RECORDED_ONCE: 'recorded-once',
  /** A final record never changes once written. */
  FINAL_UNCHANGED: 'final-unchanged',
  /** History holds the operations the flow's code calls, at their positions. */
  HISTORY_SHAPE: 'history-shape',
  /** No write is accepted under a token made stale by a later claim or a release. */
  FENCED_WRITES: 'fenced-writes',
  /** No running flow is claimed while its lease is live. */
  CLAIM_UNDER_LEASE: 'claim-under-lease',
  /** A timer never completes before it is due (sleeps, signal timeouts). */
  TIMER_EARLY: 'timer-early',
  /** Every stored signal is consumed at most once, and none is lost. */
  SIGNAL_ONCE: 'signal-once',
  /** Each child flow is created once, under the id its parent's position gives it. */
  CHILD_ONCE: 'child-once',
  /** The run itself went wrong (never quiet, a worker never stopped, the client gave up). */
  RUN: 'run',
} as const;

/** One of {@link Invariant}. */
export type Invariant = (typeof Invariant)[keyof typeof Invariant];

/** A broken invariant. */
export interface Violation {
  /** Which invariant. */
  readonly invariant: Invariant;
  /** The flow concerned, when there is one. */
  readonly flowId?: string | undefined;
  /** What was seen, for a human. */
  readonly detail: string;
}
