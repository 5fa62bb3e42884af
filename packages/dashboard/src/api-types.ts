/**
 * The JSON the dashboard's API answers with (`api/…`), shared by the server
 * and the bundled page. Times are epoch milliseconds.
 *
 * @module
 */
import type { FlowStatus, OperationKind, OperationStatus } from '@ergon/core';
import type { StoreFeatures, WaitingReason, WaitingView } from './control-types.js';
import type { DagView } from './internal/dags.js';
import type { ProgressBar, ProgressSummary } from './internal/progress.js';
import type { ValuePreview } from './internal/values.js';

export type {
  QueueKeyView,
  QueuesPage,
  QueueView,
  ScheduleDetail,
  ScheduleListPage,
  ScheduleView,
  StoreFeatures,
  WaitingReason,
  WaitingView,
} from './control-types.js';
export type { DagEdgeView, DagNodeStatus, DagNodeView, DagView } from './internal/dags.js';
export type { ProgressBar, ProgressSummary } from './internal/progress.js';
export type { ValuePreview } from './internal/values.js';
export type { Overview, WorkerView } from './overview-types.js';

/** `GET api/session`: what the page needs before anything else. */
export interface SessionInfo {
  /** Send back as the `x-ergon-csrf` header with every action. */
  readonly csrf: string;
  /** True when the dashboard refuses actions (signal, cancel, retry). */
  readonly readOnly: boolean;
  /** True when the store emits events (live updates); false: the page refreshes every `pollMs`. */
  readonly live: boolean;
  /** The refresh interval without live updates, in ms. */
  readonly pollMs: number;
  /** The store's name, for the page header. */
  readonly store: string;
  /** Whether the store keeps schedules and queue limits (else those pages say it does not). */
  readonly features: StoreFeatures;
}

/** One row of the flows list. */
export interface FlowRow {
  /** The flow's id. */
  readonly id: string;
  /** Its type. */
  readonly type: string;
  /** Its queue. */
  readonly queue: string;
  /** Its status. */
  readonly status: FlowStatus;
  /** When it was created. */
  readonly createdAt: number;
  /** When its record last changed. */
  readonly updatedAt: number;
  /** When it finished, once terminal. */
  readonly finishedAt?: number | undefined;
  /** How many times a worker ran it. */
  readonly runCount: number;
  /** Its parent, for a child flow. */
  readonly parentId?: string | undefined;
  /** The worker holding its lease, while running. */
  readonly leaseOwner?: string | undefined;
  /** What a suspended flow waits for, in words (`signal approve`, `timer`, `child x`). */
  readonly waiting: readonly string[];
  /** Why a flow that could run by time is not running yet (a queue limit, a debounce). */
  readonly waitingFor?: WaitingReason | undefined;
  /** Its error in one line, when it failed or was cancelled. */
  readonly error?: string | undefined;
  /** Its latest progress (`ctx.progress`), compact: one line, and a fraction when it has one. */
  readonly progress?: ProgressSummary | undefined;
}

/** `GET api/flows`: one page. */
export interface FlowListPage {
  /** The rows of this page, newest first. */
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
  /** Its position in the history. */
  readonly position: number;
  /** Its key, `name#n`. */
  readonly key: string;
  /** The kind of operation. */
  readonly kind: OperationKind;
  /** `completed`, `failed` or `waiting`. */
  readonly status: OperationStatus;
  /** Attempts made. */
  readonly attempts: number;
  /** When it started. */
  readonly startedAt: number;
  /** When it finished. */
  readonly finishedAt?: number | undefined;
  /** `finishedAt − startedAt`, once finished. */
  readonly durationMs?: number | undefined;
  /** A waiting record's end: timer due, signal timeout, or the next attempt after a backoff. */
  readonly wakeAt?: number | undefined;
  /** True for a step waiting to retry (its last attempt failed; `wakeAt` is the next one). */
  readonly backoff: boolean;
  /** Its error in one line, when it failed or waits to retry. */
  readonly error?: string | undefined;
  /** A preview of its result. */
  readonly result?: ValuePreview | undefined;
  /** A preview of its whole error (fields, cause). */
  readonly errorDetail?: ValuePreview | undefined;
}

/** A pending wait of a suspended flow. */
export type WaitView =
  | {
      /** A durable timer. */
      readonly kind: 'timer';
      /** The history position that waits. */
      readonly position: number;
      /** When it is due. */
      readonly at: number;
    }
  | {
      /** A signal. */
      readonly kind: 'signal';
      /** The history position that waits. */
      readonly position: number;
      /** The signal name. */
      readonly name: string;
    }
  | {
      /** A child flow. */
      readonly kind: 'child';
      /** The history position that waits. */
      readonly position: number;
      /** The child's id. */
      readonly flowId: string;
      /** The child's status, when it could be read. */
      readonly status?: FlowStatus | undefined;
      /** The child's type, when it could be read. */
      readonly type?: string | undefined;
    };

/** `GET api/flows/:id`: everything about one flow. */
export interface FlowDetail extends FlowRow {
  /** Its priority in its queue. */
  readonly priority: number;
  /** When it may next run. */
  readonly runAt?: number | undefined;
  /** When its lease expires unless renewed, while running. */
  readonly leaseExpiresAt?: number | undefined;
  /** True when a cancel was asked while it runs. */
  readonly cancelRequested: boolean;
  /** A preview of its input. */
  readonly input: ValuePreview;
  /** A preview of its result, once completed. */
  readonly result?: ValuePreview | undefined;
  /** A preview of its whole error, once failed or cancelled. */
  readonly errorDetail?: ValuePreview | undefined;
  /** Its history as timeline bars, in position order. */
  readonly timeline: readonly TimelineItem[];
  /** The DAGs it ran (`ctx.dag`), with each node's status. */
  readonly dags: readonly DagView[];
  /** What it waits for, when suspended. */
  readonly waits: readonly WaitView[];
  /** Signals sent and not yet consumed. */
  readonly signals: readonly {
    /** The signal name. */
    readonly name: string;
    /** When it was sent. */
    readonly sentAt: number;
  }[];
  /** Its parent, for a child flow. */
  readonly parent?:
    | {
        /** The parent's id. */
        readonly id: string;
        /** Its type, when it could be read. */
        readonly type?: string;
        /** Its status, when it could be read. */
        readonly status?: FlowStatus;
      }
    | undefined;
  /** Its children (the first page). */
  readonly children: readonly FlowRow[];
  /** True when the flow has more children than listed. */
  readonly moreChildren: boolean;
  /** A link to the flow's trace (from the configured template), when known. */
  readonly traceUrl?: string | undefined;
  /** The trace id of its runs, from its recorded `traceparent`. */
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
  /** Why it is not running yet, with the limit it waits on and what counts against it now. */
  readonly waitingFor?: WaitingView | undefined;
  /** The server's clock when this was read (bars of running operations end here). */
  readonly now: number;
  /** True when a signal, cancel or retry would be accepted for this flow's status. */
  readonly actions: {
    /** A signal would be accepted (the flow is not finished). */
    readonly signal: boolean;
    /** A cancel would be accepted (the flow is not finished). */
    readonly cancel: boolean;
    /** A retry would be accepted (the flow failed or was cancelled). */
    readonly retry: boolean;
  };
}

/** `GET api/pipelines`: durable-bridge flows grouped by task. */
export interface PipelineGroup {
  /** The task's name. */
  readonly task: string;
  /** The flow type its transactions run as. */
  readonly flowType: string;
  /** Its source connector, when known. */
  readonly source?: string | undefined;
  /** Most recent first; the flow id is the transaction id. */
  readonly flows: readonly FlowRow[];
  /** Pass as `cursor` for the next page. */
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
  /** The action was accepted. */
  readonly ok: true;
  /** The flow's status after it. */
  readonly status?: FlowStatus | undefined;
  /** For a retry or a schedule's trigger: the new flow. */
  readonly id?: string | undefined;
  /** For a schedule's pause or resume: whether it is paused now. */
  readonly paused?: boolean | undefined;
}

/** Any error answer. */
export interface ApiError {
  /** What went wrong. */
  readonly error: {
    /** A stable code: `UNAUTHORIZED`, `NOT_FOUND`, an Ergon error code (`FLOW_FINISHED`, …). */
    readonly code: string;
    /** What happened and what to do, for people. */
    readonly message: string;
  };
}
