/**
 * What clients read about a flow: its decoded record, history and buffered
 * signals, for people and tools.
 *
 * @module
 */
import type {
  Codec,
  FlowRecord,
  FlowStatus,
  OperationKind,
  OperationRecord,
  OperationStatus,
  SignalRecord,
  Wait,
} from '@ergon/core';

/** One history entry, decoded for people and tools. */
export interface HistoryEntry {
  readonly position: number;
  readonly key: string;
  readonly kind: OperationKind;
  readonly status: OperationStatus;
  readonly attempts: number;
  readonly startedAt: number;
  readonly finishedAt?: number | undefined;
  readonly durationMs?: number | undefined;
  readonly wakeAt?: number | undefined;
  readonly result?: unknown;
  readonly error?: unknown;
}

/** A flow with its decoded input, result or error, history, waits and buffered signals. */
export interface FlowInfo {
  readonly id: string;
  readonly type: string;
  readonly queue: string;
  readonly status: FlowStatus;
  readonly input: unknown;
  readonly result?: unknown;
  readonly error?: unknown;
  readonly parentId?: string | undefined;
  readonly priority: number;
  readonly runAt?: number | undefined;
  readonly runCount: number;
  /**
   * Runs in a row that were abandoned (a crashed worker, a failing store) without the flow
   * suspending or finishing. With {@link FlowInfo.lastError}: why the flow is not progressing.
   */
  readonly abandonedRuns: number;
  /** The error of the last abandoned run, when its worker could record it; the flow retries at `runAt`. */
  readonly lastError?: unknown;
  /** What the store could not read of this flow's record, when part of it is damaged. */
  readonly damage?: string | undefined;
  /**
   * The latest progress the flow reported (`ctx.progress`), decoded; kept after it finishes.
   * Undefined until the first report. See `client.progress` to follow it live.
   */
  readonly progress?: unknown;
  /** When {@link FlowInfo.progress} was reported (ms since epoch). */
  readonly progressAt?: number | undefined;
  /** The W3C `traceparent` of the flow's creator, when it had one: every run joins that trace. */
  readonly traceContext?: string | undefined;
  readonly leaseOwner?: string | undefined;
  readonly leaseExpiresAt?: number | undefined;
  readonly cancelRequested: boolean;
  readonly waits: readonly Wait[];
  readonly signals: readonly { readonly name: string; readonly sentAt: number }[];
  readonly history: readonly HistoryEntry[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt?: number | undefined;
}

/** A flow's record, decoded (unreadable values show as a marker instead of failing the view). */
export function flowSummary(codec: Codec, flow: FlowRecord): Omit<FlowInfo, 'history' | 'signals'> {
  return {
    id: flow.id,
    type: flow.type,
    queue: flow.queue,
    status: flow.status,
    input: safeDecode(codec, flow.input),
    result: safeDecode(codec, flow.result),
    error: safeDecode(codec, flow.error),
    parentId: flow.parentId,
    priority: flow.priority,
    runAt: flow.runAt,
    runCount: flow.runCount,
    abandonedRuns: flow.abandonedRuns ?? 0,
    lastError: safeDecode(codec, flow.lastError),
    damage: flow.damage,
    progress: safeDecode(codec, flow.progress),
    progressAt: flow.progressAt,
    traceContext: flow.traceContext,
    leaseOwner: flow.leaseOwner,
    leaseExpiresAt: flow.leaseExpiresAt,
    cancelRequested: flow.cancelRequested,
    waits: flow.waits,
    createdAt: flow.createdAt,
    updatedAt: flow.updatedAt,
    finishedAt: flow.finishedAt,
  };
}

/** Everything about a flow, decoded. */
export function flowInfo(
  codec: Codec,
  flow: FlowRecord,
  history: readonly OperationRecord[],
  signals: readonly SignalRecord[],
): FlowInfo {
  return {
    ...flowSummary(codec, flow),
    signals: signals.map((s) => ({ name: s.name, sentAt: s.sentAt })),
    history: history.map((h) => ({
      position: h.position,
      key: h.key,
      kind: h.kind,
      status: h.status,
      attempts: h.attempts,
      startedAt: h.startedAt,
      finishedAt: h.finishedAt,
      durationMs: h.finishedAt === undefined ? undefined : h.finishedAt - h.startedAt,
      wakeAt: h.wakeAt,
      result: safeDecode(codec, h.result),
      error: safeDecode(codec, h.error),
    })),
  };
}

/**
 * Decodes for display; unreadable data (corrupt, or altered at rest: its checksum does not
 * match) shows as a marker with the error's code instead of failing the whole view.
 */
function safeDecode(codec: Codec, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return codec.decode(text);
  } catch (error) {
    return {
      unreadable: text.length > 200 ? `${text.slice(0, 200)}…` : text,
      code: (error as { code?: unknown }).code,
    };
  }
}
