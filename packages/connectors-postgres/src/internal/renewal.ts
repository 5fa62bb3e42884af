/**
 * A holder keeps its rows invisible to other consumers while it works on
 * them: their visibility is pushed forward every third of the timeout,
 * while any are held. At a stop it gives back what it still holds.
 *
 * @module
 */
import type { Logger } from '@ergon/core';
import type { ResolvedQueueOptions } from '../options.js';
import type { HeldRows } from './held.js';
import type { QueueStatements } from './statements.js';

/** The visibility of one connector's held rows: extended while held, given back at a stop. */
export class VisibilityRenewal {
  readonly #held: HeldRows;
  readonly #statements: QueueStatements;
  readonly #options: ResolvedQueueOptions;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;

  constructor(held: HeldRows, statements: QueueStatements, options: ResolvedQueueOptions, logger: Logger) {
    this.#held = held;
    this.#statements = statements;
    this.#options = options;
    this.#logger = logger;
  }

  /** Starts extending every third of the visibility timeout (a timer that keeps no process alive). Idempotent. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(
      () => void this.#extend(),
      Math.max(30, Math.floor(this.#options.visibilityMs / 3)),
    );
    this.#timer.unref();
  }

  /** Stops extending. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Makes every row still held visible again at once and forgets them (a
   * stop). A failure is logged: the rows come back when their visibility
   * timeout passes.
   */
  async giveBack(): Promise<void> {
    const held = this.#held.claims();
    this.#held.clear();
    if (held.length === 0) return;
    await this.#statements
      .release(held)
      .catch((error: unknown) =>
        this.#logger.warn(
          `postgres: could not give ${held.length} rows of ${this.#options.queueSql} back on stop; ` +
            'they come back when their visibility timeout passes',
          { error: String(error) },
        ),
      );
  }

  async #extend(): Promise<void> {
    const claims = this.#held.claims();
    if (claims.length === 0) return;
    const { queueSql } = this.#options;
    try {
      const lost = (await this.#statements.extend(claims)).filter((c) => this.#held.holds(c));
      if (lost.length > 0) {
        this.#logger.warn(
          `postgres: ${lost.length} rows of ${queueSql} held here were taken by another consumer ` +
            '(this process stalled longer than visibilityTimeout); they may be processed twice',
          { seqs: lost.slice(0, 10).map((c) => c.seq) },
        );
      }
    } catch (error) {
      this.#logger.warn(`postgres: extending held rows of ${queueSql} failed; retrying`, {
        error: String(error),
      });
    }
  }
}
