/**
 * Waiting for flows to finish, many at once: one store subscription wakes
 * the wait when a flow finishes, and a sweep with back-off catches anything
 * an event did not announce. Used by `flows wait` and `schedule --wait`.
 *
 * @module
 */
import {
  ErgonError,
  ErrorCode,
  FlowNotFoundError,
  type FlowRecord,
  formatDuration,
  isTerminalStatus,
  type RuntimeExecutionLog,
} from '@ergon/core';
import { UNFINISHED } from './parse.js';

/** Options of {@link waitForFlows} and {@link drainFlows}. */
export interface WaitOptions {
  /** Give up after this long (`TIMEOUT`). Default: wait forever. */
  readonly timeoutMs?: number | undefined;
  /** Told how many flows have finished, out of how many, whenever that changes. */
  readonly onProgress?: (done: number, total: number) => void;
}

const MIN_POLL_MS = 20;
const MAX_POLL_MS = 1000;
const SWEEP_CHUNK = 100;

/**
 * Waits until every flow in `ids` is completed, failed or cancelled, and
 * returns their final records by id.
 *
 * @throws FlowNotFoundError for an unknown id (checked first), ErgonError `TIMEOUT`.
 */
export async function waitForFlows(
  store: RuntimeExecutionLog,
  ids: readonly string[],
  options: WaitOptions = {},
): Promise<Map<string, FlowRecord>> {
  const remaining = new Set(ids);
  const done = new Map<string, FlowRecord>();
  const deadline = Date.now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
  const check = async (batch: readonly string[]) => {
    for (let i = 0; i < batch.length; i += SWEEP_CHUNK) {
      const chunk = batch.slice(i, i + SWEEP_CHUNK);
      const flows = await Promise.all(chunk.map((id) => store.getFlow(id)));
      for (const [j, flow] of flows.entries()) {
        const id = chunk[j] as string;
        if (!flow) throw new FlowNotFoundError(id);
        if (isTerminalStatus(flow.status) && remaining.delete(id)) done.set(id, flow);
      }
    }
    options.onProgress?.(done.size, done.size + remaining.size);
  };
  const announced = new Set<string>();
  let wake: (() => void) | undefined;
  const unsubscribe = store.subscribe?.((event) => {
    if (event.type !== 'finished' || !remaining.has(event.flowId)) return;
    announced.add(event.flowId);
    wake?.();
  });
  try {
    await check([...remaining]);
    let pollMs = MIN_POLL_MS;
    while (remaining.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw timeout(remaining, ids.length, options.timeoutMs ?? 0);
      const woken = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), Math.min(pollMs, left));
        wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
        if (announced.size > 0) wake();
      });
      wake = undefined;
      if (woken) {
        const batch = [...announced].filter((id) => remaining.has(id));
        announced.clear();
        await check(batch);
      } else {
        await check([...remaining]);
        pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
      }
    }
    return done;
  } finally {
    unsubscribe?.();
  }
}

/**
 * Waits until no flow (of `type`, when given) is pending, running or
 * suspended, counting every unfinished flow seen on the way. Returns the ids
 * of the flows it saw finish.
 *
 * @throws ErgonError `TIMEOUT`.
 */
export async function drainFlows(
  store: RuntimeExecutionLog,
  options: WaitOptions & { readonly type?: string | undefined } = {},
): Promise<string[]> {
  const seen = new Set<string>();
  const deadline = Date.now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
  let pollMs = MIN_POLL_MS;
  for (;;) {
    const unfinished = await listUnfinished(store, options.type);
    for (const id of unfinished) seen.add(id);
    options.onProgress?.(seen.size - unfinished.size, seen.size);
    if (unfinished.size === 0) return [...seen];
    const left = deadline - Date.now();
    if (left <= 0) throw timeout(unfinished, seen.size, options.timeoutMs ?? 0);
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
    pollMs = Math.min(pollMs * 2, 250);
  }
}

async function listUnfinished(store: RuntimeExecutionLog, type: string | undefined): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await store.listFlows({ status: UNFINISHED, type, limit: 1000, cursor });
    for (const flow of page.flows) ids.add(flow.id);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

function timeout(remaining: ReadonlySet<string>, total: number, timeoutMs: number): ErgonError {
  const shown = [...remaining].slice(0, 5).join(', ') + (remaining.size > 5 ? ', …' : '');
  return new ErgonError(
    ErrorCode.TIMEOUT,
    `gave up waiting after ${formatDuration(timeoutMs)}: ${remaining.size} of ${total} flows unfinished (${shown})`,
    { details: { unfinished: remaining.size, total } },
  );
}
