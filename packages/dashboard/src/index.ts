/**
 * `@ergon/dashboard`: Ergon's web dashboard as a request handler to mount in
 * any server (a Hono app, a fetch handler, a Node `http` listener): flows by
 * status, type and queue, one flow's timeline and DAG, workers, pipelines,
 * and actions (signal, cancel, retry), guarded by a token, live over
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
  SessionInfo,
  TimelineItem,
  ValuePreview,
  WaitView,
  WorkerView,
} from './api-types.js';
export { createDashboard, type Dashboard } from './dashboard.js';
export type { DashboardOptions, PipelineInfo, RetriedFlow } from './options.js';
export { type AuthVia, CSRF_HEADER, type DashboardEnv } from './security.js';
