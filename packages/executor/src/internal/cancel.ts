/**
 * Cancellation reaches children too: a cancelled parent cancels every
 * unfinished child, recursively.
 *
 * @module
 */
import { type Clock, type Codec, isTerminalStatus, type RuntimeExecutionLog } from '@ergon/core';
import { FlowCancelledError } from '../errors.js';

/** Requests cancellation of every unfinished child of `parentId`, and theirs. */
export async function cancelChildren(
  store: RuntimeExecutionLog,
  codec: Codec,
  clock: Clock,
  parentId: string,
): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await store.listFlows({ parentId, limit: 500, cursor });
    for (const child of page.flows) {
      if (isTerminalStatus(child.status)) continue;
      await store.requestCancel({
        flowId: child.id,
        error: codec.encode(new FlowCancelledError(child.id, `parent ${parentId} was cancelled`)),
        now: clock.now(),
      });
      await cancelChildren(store, codec, clock, child.id);
    }
    cursor = page.nextCursor;
  } while (cursor);
}
