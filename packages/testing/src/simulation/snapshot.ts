/**
 * The store's final state as the checker reads it: every flow, its history
 * and its buffered signals, through core's runtime wrapper.
 *
 * @module
 */
import {
  type ExecutionLog,
  type FlowRecord,
  type OperationRecord,
  type SignalRecord,
  runtimeStore,
} from '@ergon/core';

/** Everything in the store at the end of a run. */
export interface StoreSnapshot {
  /** Every flow record, by id. */
  readonly flows: ReadonlyMap<string, FlowRecord>;
  /** Every flow's history, by flow id, in position order. */
  readonly history: ReadonlyMap<string, readonly OperationRecord[]>;
  /** Every flow's buffered signals, by flow id. */
  readonly signals: ReadonlyMap<string, readonly SignalRecord[]>;
}

/** Reads every flow of `queue` (paging through `listFlows`), with history and buffered signals. */
export async function readSnapshot(store: ExecutionLog, queue: string): Promise<StoreSnapshot> {
  const runtime = runtimeStore(store);
  const flows = new Map<string, FlowRecord>();
  let cursor: string | undefined;
  do {
    const page = await runtime.listFlows({ queue, limit: 1000, cursor });
    for (const flow of page.flows) flows.set(flow.id, flow);
    cursor = page.nextCursor;
  } while (cursor);
  const history = new Map<string, OperationRecord[]>();
  const signals = new Map<string, SignalRecord[]>();
  await Promise.all(
    [...flows.keys()].map(async (id) => {
      const [h, s] = await Promise.all([runtime.getHistory(id), runtime.getSignals(id)]);
      history.set(id, h);
      signals.set(id, s);
    }),
  );
  return { flows, history, signals };
}

/** Whether `queue` holds a non-terminal flow: the runner's "are we done" check. */
export async function unfinishedFlows(store: ExecutionLog, queue: string): Promise<number> {
  const page = await runtimeStore(store).listFlows({
    status: ['pending', 'running', 'suspended'],
    queue,
    limit: 1,
  });
  return page.flows.length;
}
