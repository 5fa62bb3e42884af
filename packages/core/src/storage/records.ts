/**
 * Record types of the storage contract. Stores keep these opaque: every value
 * field (`input`, `result`, `error`, signal payloads) is text written by the
 * engine's codec, never decoded by a store.
 *
 * @module
 */

/**
 * Life of a flow:
 * `pending` (ready at `runAt`) → `running` (claimed under a lease) →
 * `suspended` (waiting on timers, signals or children) ↔ `running` → one of the
 * terminal states `completed`, `failed`, `cancelled`.
 */
export type FlowStatus = 'pending' | 'running' | 'suspended' | 'completed' | 'failed' | 'cancelled';

/** The statuses a flow never leaves. */
export const TERMINAL_STATUSES: readonly FlowStatus[] = Object.freeze(['completed', 'failed', 'cancelled']);

/** True for `completed`, `failed` and `cancelled`. */
export function isTerminalStatus(status: FlowStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** Something a suspended flow waits for. It wakes on the first one that resolves. */
export type Wait =
  /** A durable timer: due at `at` (ms since epoch). Sleeps, signal timeouts, long retry backoffs. */
  | {
      /** Discriminant. */
      readonly kind: 'timer';
      /** When the timer is due (ms since epoch). */
      readonly at: number;
      /** The history position of the operation that waits (the sleep, the signal wait, the step). */
      readonly position: number;
    }
  /** A signal of this name sent to the flow. */
  | {
      /** Discriminant. */
      readonly kind: 'signal';
      /** The signal name waited for. */
      readonly name: string;
      /** The history position of the signal wait. */
      readonly position: number;
    }
  /** A child flow reaching a terminal state. */
  | {
      /** Discriminant. */
      readonly kind: 'child';
      /** The child flow's id. */
      readonly flowId: string;
      /** The history position of the `ctx.child` call. */
      readonly position: number;
    };

/** A flow instance as stored. */
export interface FlowRecord {
  /** The flow's id, unique in the store. */
  readonly id: string;
  /** The registered flow type name. */
  readonly type: string;
  /** Routing queue; workers claim only from their queues. */
  readonly queue: string;
  /** Where the flow is in its life; see {@link FlowStatus}. */
  readonly status: FlowStatus;
  /** Higher runs first among ready flows. */
  readonly priority: number;
  /** Encoded input. */
  readonly input: string;
  /** Encoded result, once completed. */
  readonly result?: string | undefined;
  /** Encoded error, once failed (or the reason of cancellation). */
  readonly error?: string | undefined;
  /** Parent flow id, for child flows. */
  readonly parentId?: string | undefined;
  /** When the flow becomes claimable (pending, or suspended on a timer); undefined = not by time. */
  readonly runAt?: number | undefined;
  /** Current fencing token; bumped on every claim. */
  readonly fencingToken: number;
  /** Worker holding the lease while running. */
  readonly leaseOwner?: string | undefined;
  /** Lease expiry (ms since epoch) while running. */
  readonly leaseExpiresAt?: number | undefined;
  /** What a suspended flow waits for. Empty otherwise. */
  readonly waits: readonly Wait[];
  /** True once cancellation was requested for a running flow. */
  readonly cancelRequested: boolean;
  /**
   * How many times the flow has been claimed. History is written only under a claim, so a
   * flow claimed with `runCount` 1 has no history yet (the engine then skips reading it).
   */
  readonly runCount: number;
  /**
   * Runs in a row that ended without suspending or finishing the flow: a claim that takes over
   * an expired lease counts one, a release with an `error` counts one; `suspend` and
   * `finishFlow` reset it. Absent means 0.
   */
  readonly abandonedRuns?: number | undefined;
  /**
   * Encoded error of the last abandoned run, when its worker could say why (a release with
   * `error`): why the flow is not progressing. Cleared by `suspend` and `finishFlow`.
   */
  readonly lastError?: string | undefined;
  /**
   * What the store could not read of this record, when part of it is damaged (its waits, say);
   * that part then holds a safe default (no waits). Reads and lists return such a flow rather
   * than fail, so one damaged record never hides the others.
   */
  readonly damage?: string | undefined;
  /**
   * The latest progress the flow reported (`ctx.progress`), encoded by the engine's codec;
   * kept after the flow finishes. Absent until the first report.
   */
  readonly progress?: string | undefined;
  /** When {@link FlowRecord.progress} was last written (ms since epoch). */
  readonly progressAt?: number | undefined;
  /** W3C trace context of the flow's creator, so resumes join one trace. */
  readonly traceContext?: string | undefined;
  /** Its concurrency key (flow control), if created with one. */
  readonly concurrencyKey?: string | undefined;
  /** Its own per-key running limit, if created with one. */
  readonly concurrencyLimit?: number | undefined;
  /** The debounce key it was created with: until it starts, later creates with the key fold into it. */
  readonly debounceKey?: string | undefined;
  /** Its fair-queueing tag (store-assigned, see `queues.ts`); absent outside keyed or limited queues. */
  readonly fairTag?: number | undefined;
  /** When the flow was created (ms since epoch). */
  readonly createdAt: number;
  /** When the record last changed (ms since epoch). */
  readonly updatedAt: number;
  /** When the flow reached a terminal status (ms since epoch). */
  readonly finishedAt?: number | undefined;
}

/**
 * The kinds of durable operation a flow performs. `patch` is a marker written by
 * `ctx.patched` / `ctx.deprecatePatch`: new code reached a patch, so replay takes its new branch.
 */
export type OperationKind =
  | 'step'
  | 'run'
  | 'sleep'
  | 'signal'
  | 'child'
  | 'now'
  | 'random'
  | 'uuid'
  | 'dag'
  | 'patch';

/**
 * State of one history entry. `completed` and `failed` are final (first write
 * wins); `waiting` (a timer, a signal timeout or a retry backoff recorded ahead)
 * may be overwritten by the final record.
 */
export type OperationStatus = 'completed' | 'failed' | 'waiting';

/** One entry of a flow's history, at a position in call order. */
export interface OperationRecord {
  /** The flow this record belongs to. */
  readonly flowId: string;
  /** 0-based position in call order. */
  readonly position: number;
  /** `name#n`: the operation's name and how many earlier calls had the same name. */
  readonly key: string;
  /** What kind of durable operation it is. */
  readonly kind: OperationKind;
  /** `completed` or `failed` (final, first write wins), or `waiting`. */
  readonly status: OperationStatus;
  /** Attempts made so far (steps); 1 for other kinds. */
  readonly attempts: number;
  /** Encoded result when completed. */
  readonly result?: string | undefined;
  /** Encoded error when failed, or the last attempt's error while waiting to retry. */
  readonly error?: string | undefined;
  /** For `waiting` records: when the wait ends (timer due, signal timeout, next retry attempt). */
  readonly wakeAt?: number | undefined;
  /** When the operation started (ms since epoch). */
  readonly startedAt: number;
  /** When it reached its final status (ms since epoch). */
  readonly finishedAt?: number | undefined;
  /**
   * Recording order of final records within the flow, assigned by the engine
   * (1, 2, 3, ...). Replay resolves recorded results in this order, so the
   * winner of a `Promise.race` is the same on every run. Stores persist it as is.
   */
  readonly seq?: number | undefined;
}

/** A buffered signal. */
export interface SignalRecord {
  /** The flow the signal was sent to. */
  readonly flowId: string;
  /** Store-assigned, increasing per flow: FIFO order. */
  readonly seq: number;
  /** The signal name. */
  readonly name: string;
  /** Encoded payload. */
  readonly payload: string;
  /** When it was sent (ms since epoch). */
  readonly sentAt: number;
}
