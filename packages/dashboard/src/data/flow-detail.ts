/**
 * One flow for its page: the Client's view of it (history, waits, signals)
 * turned into a timeline, laid-out DAGs, waits with their children's states,
 * parent and children, payloads and progress pretty-printed and cut, and the
 * trace link.
 *
 * @module
 */
import { isTerminalStatus } from '@ergon/core';
import type { Client, FlowInfo, HistoryEntry } from '@ergon/executor';
import type { FlowDetail, TimelineItem, WaitView } from '../api-types.js';
import { dagsOf } from '../internal/dags.js';
import { progressBar } from '../internal/progress.js';
import { errorLine, preview } from '../internal/values.js';
import { waitingView } from '../internal/waiting.js';
import { toRow } from './flow-list.js';

/** How many children the page lists. */
const CHILDREN_SHOWN = 100;
/** Results of history entries are cut shorter than the flow's own payloads. */
const ENTRY_PREVIEW_CHARS = 4000;
/** Progress is small (16 KiB encoded at most); its text is cut shorter still. */
const PROGRESS_PREVIEW_CHARS = 2000;

/** Options of {@link flowDetail}. */
export interface FlowDetailOptions {
  readonly traceUrl?: string | undefined;
  readonly readOnly: boolean;
}

/** Everything the flow page shows. @throws FlowNotFoundError. */
export async function flowDetail(
  client: Client,
  id: string,
  options: FlowDetailOptions,
): Promise<FlowDetail> {
  const info = await client.get(id);
  const now = Date.now();
  const [children, parent] = await Promise.all([
    client.list({ parentId: id, limit: CHILDREN_SHOWN }),
    info.parentId === undefined
      ? undefined
      : client.get(info.parentId, { history: false }).catch(() => undefined),
  ]);
  const [waits, waitingFor] = await Promise.all([
    Promise.all(info.waits.map((w) => waitView(client, w))),
    waitingView(client, info),
  ]);
  const traceId = traceIdOf(info.traceContext);
  const terminal = isTerminalStatus(info.status);
  const reported = info.progressAt !== undefined;
  return {
    ...toRow(info),
    waitingFor,
    priority: info.priority,
    runAt: info.runAt,
    leaseExpiresAt: info.leaseExpiresAt,
    cancelRequested: info.cancelRequested,
    abandonedRuns: info.abandonedRuns,
    lastError: info.lastError === undefined ? undefined : preview(info.lastError),
    damage: info.damage,
    input: preview(info.input),
    result: info.status === 'completed' ? preview(info.result) : undefined,
    errorDetail: info.error === undefined ? undefined : preview(info.error),
    timeline: info.history.map(timelineItem),
    dags: dagsOf(info.history, !terminal),
    waits,
    signals: info.signals,
    parent:
      info.parentId === undefined
        ? undefined
        : { id: info.parentId, type: parent?.type, status: parent?.status },
    children: children.flows.map(toRow),
    moreChildren: children.nextCursor !== undefined,
    traceId,
    traceUrl:
      traceId === undefined || options.traceUrl === undefined
        ? undefined
        : options.traceUrl
            .replaceAll('{traceId}', encodeURIComponent(traceId))
            .replaceAll('{flowId}', encodeURIComponent(info.id)),
    progressValue: reported ? preview(info.progress, PROGRESS_PREVIEW_CHARS) : undefined,
    progressBar: reported ? progressBar(info.progress) : undefined,
    progressAt: info.progressAt,
    now,
    actions: {
      signal: !options.readOnly && !terminal,
      cancel: !options.readOnly && !terminal,
      retry: !options.readOnly && (info.status === 'failed' || info.status === 'cancelled'),
    },
  };
}

function timelineItem(h: HistoryEntry): TimelineItem {
  const backoff = h.status === 'waiting' && (h.kind === 'step' || h.kind === 'run') && h.error !== undefined;
  return {
    position: h.position,
    key: h.key,
    kind: h.kind,
    status: h.status,
    attempts: h.attempts,
    startedAt: h.startedAt,
    finishedAt: h.finishedAt,
    durationMs: h.durationMs,
    wakeAt: h.wakeAt,
    backoff,
    error: errorLine(h.error),
    result: h.status === 'completed' && h.kind !== 'dag' ? preview(h.result, ENTRY_PREVIEW_CHARS) : undefined,
    errorDetail: h.error === undefined ? undefined : preview(h.error, ENTRY_PREVIEW_CHARS),
  };
}

async function waitView(client: Client, wait: FlowInfo['waits'][number]): Promise<WaitView> {
  if (wait.kind === 'timer') return { kind: 'timer', position: wait.position, at: wait.at };
  if (wait.kind === 'signal') return { kind: 'signal', position: wait.position, name: wait.name };
  const child = await client.get(wait.flowId, { history: false }).catch(() => undefined);
  return {
    kind: 'child',
    position: wait.position,
    flowId: wait.flowId,
    status: child?.status,
    type: child?.type,
  };
}

/** The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`). */
function traceIdOf(traceparent: string | undefined): string | undefined {
  const match = traceparent ? /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/i.exec(traceparent) : null;
  return match?.[1]?.toLowerCase();
}
