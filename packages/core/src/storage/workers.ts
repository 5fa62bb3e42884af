/**
 * The worker registry of the storage contract (DESIGN §2.6, worker liveness):
 * workers register and heartbeat often (about every 500 ms), apart from flow
 * leases. A worker whose heartbeat lapses is declared dead by whichever live
 * worker heartbeats next, and the leases it held expire at once, so its flows
 * resume elsewhere in seconds without short flow leases. The registry also
 * feeds `client.workers()`, the CLI and the dashboard.
 *
 * @module
 */
import type { StoreCallOptions } from './execution-log.js';

/** What kind of process a registered worker is. */
export type WorkerKind = 'worker' | 'task';

/** A worker as it registers itself. */
export interface WorkerInfo {
  /** Unique id; the `leaseOwner` of the flows it claims. */
  readonly id: string;
  /** `worker` (runs flows) or `task` (a pipeline's task runner). */
  readonly kind: WorkerKind;
  /** A task runner's task name; a worker's optional label. */
  readonly name?: string | undefined;
  /** Host name of its machine. */
  readonly host: string;
  /** Its process id on that host (a dead pid on the same host is declared dead at once). */
  readonly pid: number;
  /** Queues it claims from. */
  readonly queues: readonly string[];
  /** Flow types it runs. */
  readonly types: readonly string[];
  /** Runs at once, at most. */
  readonly concurrency: number;
  /** When it started (ms since epoch). */
  readonly startedAt: number;
  /**
   * Counters the worker reports (flows run, transactions processed, failed,
   * dead-lettered, …): encoded JSON, opaque to stores.
   */
  readonly stats?: string | undefined;
}

/** A registered worker and when it was last heard from. */
export interface WorkerRecord extends WorkerInfo {
  /** Its last heartbeat (ms since epoch). */
  readonly lastSeenAt: number;
}

/** Input of `heartbeatWorker`. */
export interface WorkerHeartbeat extends StoreCallOptions {
  /** The worker, registered (or updated) as of `now`. */
  readonly worker: WorkerInfo;
  /** The caller's current time (ms), recorded as `lastSeenAt`. */
  readonly now: number;
  /**
   * Workers not heard from for longer than this are dead: the same call removes
   * them from the registry and expires every lease they hold (`leaseExpiresAt = now`),
   * so their flows are claimable at once.
   */
  readonly lapseMs: number;
}

/** What `heartbeatWorker` reports. */
export interface HeartbeatResult {
  /** Workers this heartbeat declared dead (their leases expired). */
  readonly reaped: readonly string[];
}

/** Input of `removeWorker`. */
export interface RemoveWorkerRequest extends StoreCallOptions {
  /** The worker to remove from the registry. */
  readonly workerId: string;
  /** The caller's current time (ms). */
  readonly now: number;
  /**
   * Also expire every lease it holds: for a worker known to be dead (its
   * process is gone). A worker stopping gracefully has released its leases itself.
   */
  readonly expireLeases: boolean;
}
