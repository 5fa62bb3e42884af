/**
 * The JSON the dashboard's API answers with (`api/…`), shared by the server
 * and the bundled page. Times are epoch milliseconds.
 *
 * @module
 */
import type { FlowStatus, OperationKind, OperationStatus } from '@ergon/core';
import type { DagView } from './internal/dags.js';
import type { ProgressBar, ProgressSummary } from './internal/progress.js';
import type { ValuePreview } from './internal/values.js';

export type { DagEdgeView, DagNodeStatus, DagNodeView, DagView } from './internal/dags.js';
export type { ProgressBar, ProgressSummary } from './internal/progress.js';
export type { ValuePreview } from './internal/values.js';

/** `GET api/session`: what the page needs before anything else. */
export interface SessionInfo {
  /** Send back as the `x-ergon-csrf` header with every action. */
  readonly csrf: string;
  readonly readOnly: boolean;
  /** True when the store emits events (live updates); false: the page refreshes every `pollMs`. */
  readonly live: boolean;
  readonly pollMs: number;
  readonly store: string;
}

/** One row of the flows list. */
export interface FlowRow {
  readonly id: string;
  readonly type: string;
  readonly queue: string;
  readonly status: FlowStatus;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt?: number | undefined;
  readonly runCount: number;
  readonly parentId?: string | undefined;
  readonly leaseOwner?: string | undefined;
  /** What a suspended flow waits for, in words (`signal approve`, `timer`, `child x`). */
  readonly waiting: readonly string[];
  /** Its error in one line, when it failed or was cancelled. */
  readonly error?: string | undefined;
  /** Its latest progress (`ctx.progress`), compact: one line, and a fraction when it has one. */
  readonly progress?: ProgressSummary | undefined;
}

/** `GET api/flows`: one page. */
export interface FlowListPage {
  readonly flows: readonly FlowRow[];
  /** Pass as `cursor` for the next page. */
  readonly nextCursor?: string | undefined;
  /** When an id filter scanned instead of looking up: how many flows it looked at. */
  readonly scanned?: number | undefined;
  /** Server time spent, in ms. */
  readonly ms: number;
}

/** One bar of a flow's timeline: an operation of its history. */
export interface TimelineItem {
  readonly position: number;
  readonly key: string;
  readonly kind: OperationKind;
  readonly status: OperationStatus;
  readonly attempts: number;
  readonly startedAt: number;
  readonly finishedAt?: number | undefined;
  readonly durationMs?: number | undefined;
  /** A waiting record's end: timer due, signal timeout, or the next attempt after a backoff. */
  readonly wakeAt?: number | undefined;
  /** True for a step waiting to retry (its last attempt failed; `wakeAt` is the next one). */
  readonly backoff: boolean;
  readonly error?: string | undefined;
  readonly result?: ValuePreview | undefined;
  readonly errorDetail?: ValuePreview | undefined;
}

/** A pending wait of a suspended flow. */
export type WaitView =
  | { readonly kind: 'timer'; readonly position: number; readonly at: number }
  | { readonly kind: 'signal'; readonly position: number; readonly name: string }
  | {
      readonly kind: 'child';
      readonly position: number;
      readonly flowId: string;
      readonly status?: FlowStatus | undefined;
      readonly type?: string | undefined;
    };

/** `GET api/flows/:id`: everything about one flow. */
export interface FlowDetail extends FlowRow {
  readonly priority: number;
  readonly runAt?: number | undefined;
  readonly leaseExpiresAt?: number | undefined;
  readonly cancelRequested: boolean;
  readonly input: ValuePreview;
  readonly result?: ValuePreview | undefined;
  readonly errorDetail?: ValuePreview | undefined;
  readonly timeline: readonly TimelineItem[];
  readonly dags: readonly DagView[];
  readonly waits: readonly WaitView[];
  /** Signals sent and not yet consumed. */
  readonly signals: readonly { readonly name: string; readonly sentAt: number }[];
  readonly parent?: { readonly id: string; readonly type?: string; readonly status?: FlowStatus } | undefined;
  readonly children: readonly FlowRow[];
  /** True when the flow has more children than listed. */
  readonly moreChildren: boolean;
  /** A link to the flow's trace (from the configured template), when known. */
  readonly traceUrl?: string | undefined;
  readonly traceId?: string | undefined;
  /** Runs in a row abandoned without progress (a worker that died, a store error). */
  readonly abandonedRuns: number;
  /** Why the last abandoned run stopped: what keeps the flow from progressing. */
  readonly lastError?: ValuePreview | undefined;
  /** What the store could not read of this flow's record, when part of it is damaged. */
  readonly damage?: string | undefined;
  /** The progress the flow reported last (`ctx.progress`), pretty-printed (`progress` is its summary). */
  readonly progressValue?: ValuePreview | undefined;
  /** A bar for it, when the value says how far along the flow is. */
  readonly progressBar?: ProgressBar | undefined;
  /** When it was reported. */
  readonly progressAt?: number | undefined;
  /** The server's clock when this was read (bars of running operations end here). */
  readonly now: number;
  /** True when a signal, cancel or retry would be accepted for this flow's status. */
  readonly actions: { readonly signal: boolean; readonly cancel: boolean; readonly retry: boolean };
}

/** `GET api/overview`. Counts are exact up to `limit`; past it they read `limit` and `capped` is set. */
export interface Overview {
  readonly byStatus: Readonly<Record<FlowStatus, { readonly count: number; readonly capped: boolean }>>;
  /** Types and queues among the `sample` most recent flows. */
  readonly byType: readonly { readonly name: string; readonly count: number }[];
  readonly byQueue: readonly { readonly name: string; readonly count: number; readonly ready: number }[];
  readonly sample: number;
  /** Per minute over the last hour: minute start, flows started, finished, failed. */
  readonly perMinute: readonly {
    readonly t: number;
    readonly started: number;
    readonly finished: number;
    readonly failed: number;
  }[];
  /** Suspended flows' timers due in the next hour, soonest first. */
  readonly timers: readonly { readonly flowId: string; readonly type: string; readonly at: number }[];
  readonly workers: readonly WorkerView[];
  readonly limit: number;
  readonly ms: number;
}

/**
 * A worker: one in the store's registry (with its heartbeat), or a lease owner of
 * running flows that is not registered (an executor, a worker with liveness off).
 */
export interface WorkerView {
  readonly id: string;
  /** True when it is in the registry (it heartbeats); false for a lease owner only. */
  readonly registered: boolean;
  /** `worker` or `task` (a pipeline's task runner), when registered. */
  readonly kind?: string | undefined;
  readonly name?: string | undefined;
  readonly host?: string | undefined;
  readonly pid?: number | undefined;
  readonly queues?: readonly string[] | undefined;
  readonly concurrency?: number | undefined;
  /** Milliseconds since its last heartbeat (registered workers). */
  readonly heartbeatAgeMs?: number | undefined;
  /** What it reports: flows run, failures, transactions processed, … */
  readonly stats?: Readonly<Record<string, unknown>> | undefined;
  /** Age of its latest write to a flow it holds (lease owners that are not registered). */
  readonly lastWriteAgeMs?: number | undefined;
  readonly flows: readonly {
    readonly id: string;
    readonly type: string;
    readonly leaseExpiresAt?: number | undefined;
  }[];
  /** The soonest lease expiry among its flows (expired leases are reclaimable). */
  readonly nextExpiry?: number | undefined;
}

/** `GET api/pipelines`: durable-bridge flows grouped by task. */
export interface PipelineGroup {
  readonly task: string;
  readonly flowType: string;
  readonly source?: string | undefined;
  /** Most recent first; the flow id is the transaction id. */
  readonly flows: readonly FlowRow[];
  readonly nextCursor?: string | undefined;
}

/**
 * The `change` event of `GET api/events`: something changed; refresh what you show. A page
 * that shows neither lists nor a flow named here may skip it.
 */
export interface ChangeMessage {
  /** Flows known to have finished in this batch. */
  readonly finished: readonly string[];
  /** Flows that reported progress in this batch (at most 100; past that `lists` is set). */
  readonly progress: readonly string[];
  /** True when lists and counts may have changed (a flow created, woken, finished…). */
  readonly lists: boolean;
}

/** An action's answer. */
export interface ActionResult {
  readonly ok: true;
  readonly status?: FlowStatus | undefined;
  /** For a retry: the new flow. */
  readonly id?: string | undefined;
}

/** Any error answer. */
export interface ApiError {
  readonly error: { readonly code: string; readonly message: string };
}
