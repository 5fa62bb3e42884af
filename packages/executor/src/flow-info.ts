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
  WaitingFor,
} from '@ergon/core';

/** One history entry, decoded for people and tools. */
export interface HistoryEntry {
  /** 0-based position in call order. */
  readonly position: number;
  /** `name#n`: the operation's name and how many earlier calls had that name. */
  readonly key: string;
  /** What kind of durable operation it is (step, run, sleep, signal, child, …). */
  readonly kind: OperationKind;
  /** `completed`, `failed`, or `waiting` (a timer or a retry backoff ahead). */
  readonly status: OperationStatus;
  /** Attempts made (steps); 1 for other kinds. */
  readonly attempts: number;
  /** When it started (ms since epoch). */
  readonly startedAt: number;
  /** When it reached its final status (ms since epoch). */
  readonly finishedAt?: number | undefined;
  /** `finishedAt − startedAt`, once finished. */
  readonly durationMs?: number | undefined;
  /** For a `waiting` record: when the wait ends (ms since epoch). */
  readonly wakeAt?: number | undefined;
  /** The decoded result, when completed. */
  readonly result?: unknown;
  /** The decoded error (as its class), when failed or waiting to retry. */
  readonly error?: unknown;
}

/** A flow with its decoded input, result or error, history, waits and buffered signals. */
export interface FlowInfo {
  /** The flow's id. */
  readonly id: string;
  /** The flow type name. */
  readonly type: string;
  /** The queue it runs from. */
  readonly queue: string;
  /** Where it is in its life: `pending`, `running`, `suspended`, `completed`, `failed`, `cancelled`. */
  readonly status: FlowStatus;
  /** The decoded input. */
  readonly input: unknown;
  /** The decoded result, once completed. */
  readonly result?: unknown;
  /** The decoded error (as its class) once failed; the reason once cancelled. */
  readonly error?: unknown;
  /** The parent flow, for a child flow. */
  readonly parentId?: string | undefined;
  /** Higher runs first among ready flows of its queue. */
  readonly priority: number;
  /** When it may next run (ms since epoch): its schedule, a retry backoff, a lease being released. */
  readonly runAt?: number | undefined;
  /** How many times a worker has claimed and run it. */
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
  /** The worker holding its lease, while running. */
  readonly leaseOwner?: string | undefined;
  /** When that lease expires unless renewed (ms since epoch). */
  readonly leaseExpiresAt?: number | undefined;
  /** True once `cancel` was asked while it was running: its worker stops it at its next durable operation. */
  readonly cancelRequested: boolean;
  /**
   * Why a flow that could run by time is not running yet (flow control): `debounce` (gathering
   * a burst), `queue-concurrency`, `key-concurrency` or `rate-limit`. Set by `client.get` and
   * `client.list`; undefined when nothing holds it back but a free worker.
   */
  readonly waitingFor?: WaitingFor | undefined;
  /** What a suspended flow waits for (timers, signals, children); empty otherwise. */
  readonly waits: readonly Wait[];
  /** Signals sent to it and not consumed yet, oldest first (payloads are not decoded here). */
  readonly signals: readonly {
    /** The signal name. */
    readonly name: string;
    /** When it was sent (ms since epoch). */
    readonly sentAt: number;
  }[];
  /** Its history, in position order (empty when read with `{ history: false }`). */
  readonly history: readonly HistoryEntry[];
  /** When it was created (ms since epoch). */
  readonly createdAt: number;
  /** When its record last changed (ms since epoch). */
  readonly updatedAt: number;
  /** When it reached a terminal status (ms since epoch). */
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
