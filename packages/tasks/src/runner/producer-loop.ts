/**
 * The producer loop: take items in batches of `batchSize` from the task's
 * `items()`, run each batch's lifecycle, stop at the end of the items, the
 * limit, or a stop.
 *
 * @module
 */
import { toError } from '@ergon/core';
import { raceAbort } from '../internal/abort.js';
import type { TransactionOutcome } from '../task/outcome.js';
import type { RunControl } from './control.js';
import { type ProduceEnv, produceBatch } from './produce.js';
import { type LoopResult, Tally } from './tally.js';

/** What the loop needs. */
export interface ProducerLoopEnv extends ProduceEnv {
  /** Stop signals of the run. */
  readonly control: RunControl;
  /** Receives every item's outcome. */
  readonly onOutcome: ((outcome: TransactionOutcome) => void) | undefined;
}

/** Runs until the items end, the limit, a stop, or `items()` failing. */
export async function runProducerLoop(env: ProducerLoopEnv): Promise<LoopResult> {
  const { task, control } = env;
  const { policy } = task;
  const tally = new Tally(env.onOutcome);
  let iterator: Iterator<unknown> | AsyncIterator<unknown>;
  try {
    const items = task.items(env.context);
    iterator =
      Symbol.asyncIterator in items
        ? (items as AsyncIterable<unknown>)[Symbol.asyncIterator]()
        : (items as Iterable<unknown>)[Symbol.iterator]();
  } catch (error) {
    return tally.end('failed', undefined, toError(error));
  }
  let taken = 0;
  try {
    while (!control.stopping.aborted) {
      const remaining = policy.limit === undefined ? Number.POSITIVE_INFINITY : policy.limit - taken;
      if (remaining <= 0) return await tally.end('limit', undefined);
      const batch: unknown[] = [];
      let exhausted = false;
      while (batch.length < Math.min(policy.batchSize, remaining)) {
        const next = await raceAbort(Promise.resolve(iterator.next()), control.stopping).catch((error) => {
          if (control.stopping.aborted) return undefined; // stopped while waiting for an item
          throw error;
        });
        if (!next) break;
        if (next.done) {
          exhausted = true;
          break;
        }
        batch.push(next.value);
      }
      taken += batch.length;
      if (batch.length > 0) for (const outcome of await produceBatch(env, batch)) tally.add(outcome);
      if (exhausted) return await tally.end('drained', undefined);
    }
  } catch (error) {
    return tally.end('failed', undefined, toError(error));
  } finally {
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
  return tally.end(control.reason ?? 'stopped', undefined);
}
