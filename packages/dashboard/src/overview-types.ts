/**
 * The JSON of the dashboard's overview and workers answers (`api/overview`,
 * `api/workers`). Times are epoch milliseconds. Re-exported by `api-types.ts`.
 *
 * @module
 */
import type { FlowStatus } from '@ergon/core';

/** `GET api/overview`. Counts are exact up to `limit`; past it they read `limit` and `capped` is set. */
export interface Overview {
  /** Flows per status. */
  readonly byStatus: Readonly<
    Record<
      FlowStatus,
      {
        /** Flows in that status (at most `limit`). */
        readonly count: number;
        /** True when there are more than `limit`. */
        readonly capped: boolean;
      }
    >
  >;
  /** Types and queues among the `sample` most recent flows. */
  readonly byType: readonly {
    /** The flow type. */
    readonly name: string;
    /** Flows of that type in the sample. */
    readonly count: number;
  }[];
  /** Queues among the `sample` most recent flows. */
  readonly byQueue: readonly {
    /** The queue. */
    readonly name: string;
    /** Flows of that queue in the sample. */
    readonly count: number;
    /** Flows ready to run in it now. */
    readonly ready: number;
  }[];
  /** How many recent flows `byType` and `byQueue` looked at. */
  readonly sample: number;
  /** Per minute over the last hour: minute start, flows started, finished, failed. */
  readonly perMinute: readonly {
    /** The minute's start. */
    readonly t: number;
    /** Flows started in it. */
    readonly started: number;
    /** Flows finished in it. */
    readonly finished: number;
    /** Flows failed in it. */
    readonly failed: number;
  }[];
  /** Suspended flows' timers due in the next hour, soonest first. */
  readonly timers: readonly {
    /** The sleeping flow. */
    readonly flowId: string;
    /** Its type. */
    readonly type: string;
    /** When its timer is due. */
    readonly at: number;
  }[];
  /** The workers: registered ones and lease owners. */
  readonly workers: readonly WorkerView[];
  /** The most flows counted per status. */
  readonly limit: number;
  /** Server time spent, in ms. */
  readonly ms: number;
}

/**
 * A worker: one in the store's registry (with its heartbeat), or a lease owner of
 * running flows that is not registered (an executor, a worker with liveness off).
 */
export interface WorkerView {
  /** The worker's id (the lease owner of its flows). */
  readonly id: string;
  /** True when it is in the registry (it heartbeats); false for a lease owner only. */
  readonly registered: boolean;
  /** `worker` or `task` (a pipeline's task runner), when registered. */
  readonly kind?: string | undefined;
  /** Its label, or a task runner's task name. */
  readonly name?: string | undefined;
  /** Its host. */
  readonly host?: string | undefined;
  /** Its process id. */
  readonly pid?: number | undefined;
  /** The queues it claims from. */
  readonly queues?: readonly string[] | undefined;
  /** The flow types it runs (registered workers). */
  readonly types?: readonly string[] | undefined;
  /** Per flow type, the recorded code versions it serves (types absent here: every version). */
  readonly versions?: Readonly<Record<string, readonly string[]>> | undefined;
  /** How many flows it runs at once, at most. */
  readonly concurrency?: number | undefined;
  /** Milliseconds since its last heartbeat (registered workers). */
  readonly heartbeatAgeMs?: number | undefined;
  /** What it reports: flows run, failures, transactions processed, … */
  readonly stats?: Readonly<Record<string, unknown>> | undefined;
  /** Age of its latest write to a flow it holds (lease owners that are not registered). */
  readonly lastWriteAgeMs?: number | undefined;
  /** The running flows it holds. */
  readonly flows: readonly {
    /** The flow's id. */
    readonly id: string;
    /** Its type. */
    readonly type: string;
    /** When its lease expires unless renewed. */
    readonly leaseExpiresAt?: number | undefined;
  }[];
  /** The soonest lease expiry among its flows (expired leases are reclaimable). */
  readonly nextExpiry?: number | undefined;
}
