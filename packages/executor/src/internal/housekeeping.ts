/**
 * A worker's periodic chores between claims: purging finished flows past the
 * retention period, and reporting due flows of types no worker here knows.
 * They run beside the claim loop, never in its way: a purge of a thousand
 * flows or a page of pending flows read for the unknown-type check takes
 * milliseconds of store time that a claim must not wait behind (a new worker's
 * first check held its second claim 5-20 ms on a loaded PostgreSQL).
 *
 * @module
 */
import { type Clock, type Logger, type RuntimeExecutionLog, toError } from '@ergon/core';

/** What {@link Housekeeping} needs. */
export interface HousekeepingOptions {
  readonly store: RuntimeExecutionLog;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly queues: readonly string[];
  /** The flow types the worker runs. */
  readonly known: ReadonlyMap<string, unknown>;
  /** Finished flows older than this are purged; undefined: never. */
  readonly retentionMs: number | undefined;
  /** How often to look for flows of unknown types. */
  readonly unknownCheckMs: number;
  readonly onUnknownType?: ((type: string, flowIds: readonly string[]) => void) | undefined;
}

/** Runs the chores when they are due; never throws. */
export class Housekeeping {
  readonly #o: HousekeepingOptions;
  #lastPurge = 0;
  #lastUnknownCheck = 0;
  /** The chores in progress, if any: one pass at a time. */
  #inFlight: Promise<void> | undefined;

  constructor(options: HousekeepingOptions) {
    this.#o = options;
  }

  /** Starts whatever is due now, unless a pass is still in progress; does not wait for it. */
  kick(): void {
    if (this.#inFlight) return;
    const now = Date.now();
    const { retentionMs, unknownCheckMs } = this.#o;
    const purgeDue = retentionMs !== undefined && now - this.#lastPurge > Math.min(retentionMs, 60_000);
    if (!purgeDue && now - this.#lastUnknownCheck <= unknownCheckMs) return;
    this.#inFlight = this.run().finally(() => {
      this.#inFlight = undefined;
    });
  }

  /** Resolves when no pass is in progress (a stopping worker waits for it). */
  async settled(): Promise<void> {
    await this.#inFlight;
  }

  /** Does whatever is due now. */
  async run(): Promise<void> {
    const now = Date.now();
    const { retentionMs } = this.#o;
    if (retentionMs !== undefined && now - this.#lastPurge > Math.min(retentionMs, 60_000)) {
      this.#lastPurge = now;
      try {
        await this.#o.store.purge({ finishedBefore: this.#o.clock.now() - retentionMs, limit: 1000 });
      } catch (error) {
        this.#o.logger.warn('purge failed', { error: toError(error).message });
      }
    }
    if (now - this.#lastUnknownCheck > this.#o.unknownCheckMs) {
      this.#lastUnknownCheck = now;
      await this.#reportUnknownTypes();
    }
  }

  async #reportUnknownTypes(): Promise<void> {
    const { store, queues, known, clock, logger } = this.#o;
    try {
      const page = await store.listFlows({ status: 'pending', limit: 200 });
      const unknown = new Map<string, string[]>();
      for (const flow of page.flows) {
        if (!queues.includes(flow.queue) || known.has(flow.type)) continue;
        if (flow.runAt === undefined || flow.runAt > clock.now()) continue;
        unknown.set(flow.type, [...(unknown.get(flow.type) ?? []), flow.id]);
      }
      for (const [type, ids] of unknown) {
        logger.warn(
          `pending flows of unknown type '${type}' in this worker's queues: register the type with a worker`,
          {
            type,
            count: ids.length,
          },
        );
        this.#o.onUnknownType?.(type, ids);
      }
    } catch (error) {
      logger.debug('unknown-type check failed', { error: toError(error).message });
    }
  }
}
