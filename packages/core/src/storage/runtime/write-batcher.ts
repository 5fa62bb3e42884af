/**
 * Write coalescing (DESIGN §7): the writes a process makes while its previous
 * batch is in flight wait and then go together as one
 * {@link ExecutionLog.applyWrites} call: one SQLite transaction, one Redis
 * script for many flows. Writes made in one turn of the event loop go together
 * too. A write made when nothing waits goes at once, through its single call,
 * so an idle worker's latency does not grow. Each write settles with its own
 * outcome: one flow's refused write never fails another's.
 *
 * @module
 */

import { applyWrite, type BatchValue } from '../batch.js';
import { StoreUnavailableError } from '../errors.js';
import type { BatchOutcome, BatchWrite, ExecutionLog } from '../execution-log.js';
import { MAX_BATCH_WRITES } from '../execution-log.js';

/** Batches in flight at once: the next one forms while the store answers the last. */
const MAX_IN_FLIGHT = 2;

interface Pending {
  readonly write: BatchWrite;
  readonly resolve: (value: BatchValue) => void;
  readonly reject: (error: unknown) => void;
}

/** Coalesces the writes of one store. */
export class WriteBatcher {
  readonly #store: ExecutionLog & Required<Pick<ExecutionLog, 'applyWrites'>>;
  #queue: Pending[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(store: ExecutionLog & Required<Pick<ExecutionLog, 'applyWrites'>>) {
    this.#store = store;
  }

  /** Queues `write`; settles as its single call would. */
  submit(write: BatchWrite): Promise<BatchValue> {
    return new Promise<BatchValue>((resolve, reject) => {
      this.#queue.push({ write, resolve, reject });
      this.#schedule();
    });
  }

  /** Sends what waits at the end of this turn, unless the batches in flight are enough. */
  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= MAX_IN_FLIGHT || this.#queue.length === 0) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#inFlight < MAX_IN_FLIGHT && this.#queue.length > 0) {
      const batch =
        this.#queue.length <= MAX_BATCH_WRITES ? this.#queue : this.#queue.slice(0, MAX_BATCH_WRITES);
      this.#queue = batch === this.#queue ? [] : this.#queue.slice(MAX_BATCH_WRITES);
      this.#inFlight++;
      this.#send(batch).finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
    }
  }

  async #send(batch: readonly Pending[]): Promise<void> {
    const [only] = batch;
    if (batch.length === 1 && only) {
      try {
        only.resolve(await applyWrite(this.#store, only.write));
      } catch (error) {
        only.reject(error);
      }
      return;
    }
    let outcomes: BatchOutcome[];
    try {
      outcomes = await this.#store.applyWrites(batch.map((p) => p.write));
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (!outcome)
        p.reject(
          new StoreUnavailableError(
            this.#store.name,
            `a batch of ${batch.length} writes answered ${outcomes.length}`,
          ),
        );
      else if (outcome.ok) p.resolve(outcome.value);
      else p.reject(outcome.error);
    });
  }
}
