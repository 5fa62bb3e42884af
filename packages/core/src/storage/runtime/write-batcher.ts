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
  /** Writes of one group ({@link WriteBatcher.submitInOrder}) share a number, never 0, and one batch. */
  readonly group: number;
}

/** Coalesces the writes of one store. */
export class WriteBatcher {
  readonly #store: ExecutionLog & Required<Pick<ExecutionLog, 'applyWrites'>>;
  #queue: Pending[] = [];
  #inFlight = 0;
  #scheduled = false;
  #groups = 0;

  constructor(store: ExecutionLog & Required<Pick<ExecutionLog, 'applyWrites'>>) {
    this.#store = store;
  }

  /** Queues `write`; settles as its single call would. */
  submit(write: BatchWrite): Promise<BatchValue> {
    return new Promise<BatchValue>((resolve, reject) => {
      this.#queue.push({ write, resolve, reject, group: 0 });
      this.#schedule();
    });
  }

  /**
   * Queues `writes` (at most {@link MAX_BATCH_WRITES}) to go in one batch, in this order, so
   * they apply in order whatever other batches are in flight. Each settles with its own outcome.
   */
  submitInOrder(writes: readonly BatchWrite[]): Promise<BatchOutcome[]> {
    const group = ++this.#groups;
    const settled = writes.map(
      (write) =>
        new Promise<BatchOutcome>((resolve) => {
          this.#queue.push({
            write,
            resolve: (value) => resolve({ ok: true, value }),
            reject: (error) => resolve({ ok: false, error }),
            group,
          });
        }),
    );
    this.#schedule();
    return Promise.all(settled);
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
      const size = this.#queue.length <= MAX_BATCH_WRITES ? this.#queue.length : this.#cut();
      const batch = size === this.#queue.length ? this.#queue : this.#queue.slice(0, size);
      this.#queue = batch === this.#queue ? [] : this.#queue.slice(size);
      this.#inFlight++;
      this.#send(batch).finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
    }
  }

  /** Where a full batch ends: at most {@link MAX_BATCH_WRITES} writes, never inside a group. */
  #cut(): number {
    let size = MAX_BATCH_WRITES;
    const group = this.#queue[size]?.group ?? 0;
    if (group !== 0) while (size > 0 && this.#queue[size - 1]?.group === group) size--;
    return size > 0 ? size : MAX_BATCH_WRITES;
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
