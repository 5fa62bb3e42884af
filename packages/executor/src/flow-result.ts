/**
 * Waiting for a flow's result from any process (`client.result(flowId)`):
 * woken by the store's `finished` event, with a poll behind it that backs off
 * (the only source for a store without events), until the flow is terminal,
 * the timeout passes or the caller's signal aborts.
 *
 * @module
 */
import {
  type Codec,
  type Duration,
  ErgonError,
  ErrorCode,
  FlowNotFoundError,
  type FlowRecord,
  isTerminalStatus,
  type RuntimeExecutionLog,
  toMillis,
  validateId,
} from '@ergon/core';
import type { Client } from './client.js';
import { FlowCancelledError, FlowFailedError } from './errors.js';

/** Options of {@link Client.result}. */
export interface ResultOptions {
  /** Give up waiting after this long (`TIMEOUT`). Default: wait forever. */
  readonly timeout?: Duration;
  /** Stops waiting (`ABORTED`); the flow itself is not affected. */
  readonly signal?: AbortSignal;
}

/** What {@link awaitResult} reads with. */
export interface ResultSource {
  readonly store: RuntimeExecutionLog;
  readonly codec: Codec;
}

/**
 * Waits for the flow to finish and resolves with its decoded result.
 * @throws FlowFailedError (cause: the flow's error), FlowCancelledError, FlowNotFoundError,
 *   ErgonError `TIMEOUT` or `ABORTED`.
 */
export async function awaitResult<O>(
  source: ResultSource,
  flowId: string,
  options: ResultOptions,
): Promise<O> {
  const { store, codec } = source;
  validateId(flowId, 'flow id');
  const deadline =
    options.timeout === undefined
      ? Number.POSITIVE_INFINITY
      : Date.now() + toMillis(options.timeout, 'timeout');
  let wake: (() => void) | undefined;
  const unsubscribe = store.subscribe?.((event) => {
    if (event.type === 'finished' && event.flowId === flowId) wake?.();
  });
  const onAbort = () => wake?.();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let pollMs = 5;
    for (;;) {
      const flow = await store.getFlow(flowId);
      if (!flow) throw new FlowNotFoundError(flowId);
      if (isTerminalStatus(flow.status)) return outcomeOf<O>(codec, flow);
      options.signal?.throwIfAborted();
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new ErgonError(
          ErrorCode.TIMEOUT,
          `flow ${JSON.stringify(flowId)} did not finish in time (status ${flow.status})`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(pollMs, remaining));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      pollMs = Math.min(pollMs * 2, unsubscribe ? 2000 : 250);
    }
  } finally {
    unsubscribe?.();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** A terminal flow's result, decoded; its error, thrown, when it failed or was cancelled. */
function outcomeOf<O>(codec: Codec, flow: FlowRecord): O {
  if (flow.status === 'completed')
    return (flow.result === undefined ? undefined : codec.decode(flow.result)) as O;
  const cause = flow.error === undefined ? undefined : codec.decode(flow.error);
  if (flow.status === 'cancelled')
    throw cause instanceof FlowCancelledError ? cause : new FlowCancelledError(flow.id);
  throw new FlowFailedError(flow.id, cause);
}
