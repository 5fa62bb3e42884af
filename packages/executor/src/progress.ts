/**
 * Following a flow's progress from any process (`client.progress(flowId)`):
 * an async iterable of what the flow reports with `ctx.progress`, driven by
 * the store's `progress` and `finished` events, with a poll behind them (the
 * only source for a store without events; a safety net for one whose events
 * are best effort, such as Redis pub/sub).
 *
 * @module
 */
import {
  type Codec,
  ErgonError,
  ErrorCode,
  FlowNotFoundError,
  isTerminalStatus,
  type RuntimeExecutionLog,
} from '@ergon/core';

/** One progress report of a flow, as `client.progress` yields it. */
export interface ProgressUpdate<T = unknown> {
  /** The value the flow reported, decoded by the client's codec. */
  readonly value: T;
  /** When it was reported (ms since epoch, the worker's clock). */
  readonly at: number;
}

/** Options of `client.progress`. */
export interface ProgressOptions {
  /** Stops following: the iteration then throws an `ErgonError` with code `ABORTED`. */
  readonly signal?: AbortSignal;
}

/** First poll delay; it doubles while nothing changes. */
const MIN_POLL_MS = 20;
/** Longest poll delay when store events drive the updates (the poll is only a safety net). */
const MAX_POLL_WITH_EVENTS_MS = 2000;
/** Longest poll delay for a store without events (the poll is all there is). */
const MAX_POLL_WITHOUT_EVENTS_MS = 250;

/** What {@link followProgress} reads with. */
export interface ProgressSource {
  readonly store: RuntimeExecutionLog;
  readonly codec: Codec;
}

/**
 * Yields the flow's current progress (if any), then each change, and ends once the flow is
 * terminal, after yielding its last progress. Changes that come faster than they are read are
 * coalesced: the latest value wins, as when it is written.
 * @throws FlowNotFoundError (unknown or purged flow), SerializationError or `STORE_CORRUPT` for a
 *   value that cannot be decoded, `ABORTED` when `signal` fires.
 */
export async function* followProgress<T>(
  source: ProgressSource,
  flowId: string,
  options: ProgressOptions = {},
): AsyncGenerator<ProgressUpdate<T>, void, undefined> {
  const { store, codec } = source;
  const { signal } = options;
  let dirty = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    dirty = true;
    wake?.();
  };
  // Subscribed before the first read, so no change between the two is missed.
  const unsubscribe = store.subscribe?.((event) => {
    if ((event.type === 'progress' || event.type === 'finished') && event.flowId === flowId) poke();
  });
  signal?.addEventListener('abort', poke);
  const maxPollMs = unsubscribe ? MAX_POLL_WITH_EVENTS_MS : MAX_POLL_WITHOUT_EVENTS_MS;
  let pollMs = MIN_POLL_MS;
  let last: string | undefined;
  try {
    for (;;) {
      if (signal?.aborted) throw aborted(flowId, signal);
      dirty = false;
      const flow = await store.getFlow(flowId, { signal });
      if (!flow) throw new FlowNotFoundError(flowId);
      if (flow.progress !== undefined) {
        const at = flow.progressAt ?? flow.updatedAt;
        const key = `${at}:${flow.progress}`;
        if (key !== last) {
          last = key;
          pollMs = MIN_POLL_MS;
          const value = codec.decode(flow.progress, `progress of flow ${flowId}`) as T;
          yield { value, at };
        }
      }
      if (isTerminalStatus(flow.status)) return;
      if (!dirty) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        pollMs = Math.min(pollMs * 2, maxPollMs);
      }
    }
  } finally {
    wake?.();
    unsubscribe?.();
    signal?.removeEventListener('abort', poke);
  }
}

function aborted(flowId: string, signal: AbortSignal): ErgonError {
  return new ErgonError(
    ErrorCode.ABORTED,
    `following the progress of flow ${JSON.stringify(flowId)} was aborted`,
    {
      cause: signal.reason,
      details: { flowId },
    },
  );
}
