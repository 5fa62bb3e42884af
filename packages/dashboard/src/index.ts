/**
 * `@ergon/dashboard`: Ergon's web dashboard as a request handler to mount in
 * any server (a Hono app, a fetch handler, a Node `http` listener): flows by
 * status, type and queue, one flow's timeline and DAG, workers, pipelines,
 * schedules, queues with their flow-control limits, and actions (signal,
 * cancel, retry; pause, resume and run a schedule now), guarded by a token, live over
 * server-sent events from the store's events.
 *
 * @module
 */
export type {
  ActionResult,
  ApiError,
  ChangeMessage,
  DagEdgeView,
  DagNodeStatus,
  DagNodeView,
  DagView,
  FlowDetail,
  FlowListPage,
  FlowRow,
  Overview,
  PipelineGroup,
  ProgressBar,
  ProgressSummary,
  QueueKeyView,
  QueuesPage,
  QueueView,
  ScheduleDetail,
  ScheduleListPage,
  ScheduleView,
  SessionInfo,
  StoreFeatures,
  TimelineItem,
  ValuePreview,
  WaitingReason,
  WaitingView,
  WaitView,
  WorkerView,
} from './api-types.js';
export { createDashboard, type Dashboard } from './dashboard.js';
export type { DashboardOptions, PipelineInfo, RetriedFlow } from './options.js';
export { type AuthVia, CSRF_HEADER, type DashboardEnv } from './security.js';
