/**
 * Keeping claims alive: while any object is held, every sixth of the lease
 * the markers written a sixth of the lease ago or more are written again,
 * so none gets older than a third of the lease, and markers of objects
 * held only briefly (most, under load) are never rewritten. One renewal at
 * a time (a slow one must not race the next); a failed renewal is logged
 * and the next one tries again.
 *
 * @module
 */
import type { Logger } from '@ergon/core';
import type { Claims } from './claims.js';
import type { HeldObjects } from './held.js';

/** The renewal timer of one connector. */
export class LeaseRenewal {
  readonly #claims: Claims;
  readonly #held: HeldObjects;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  readonly #prefix: string;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: {
    claims: Claims;
    held: HeldObjects;
    leaseMs: number;
    logger: Logger;
    prefix: string;
  }) {
    this.#claims = options.claims;
    this.#held = options.held;
    this.#intervalMs = Math.floor(options.leaseMs / 6);
    this.#logger = options.logger;
    this.#prefix = options.prefix;
  }

  /** Starts renewing; a no-op while it runs. */
  start(): void {
    if (this.#timer) return;
    let renewing = false;
    this.#timer = setInterval(() => {
      // One renewal at a time: a slow one must not race the next.
      if (renewing) return;
      // A marker younger than a tick is at most two ticks (a third of the lease) old at the next one.
      const due = Date.now() - this.#intervalMs;
      const leases = this.#held.leases().filter((lease) => lease.written <= due);
      if (leases.length === 0) return;
      renewing = true;
      this.#claims
        .renew(leases, (lease) => this.#held.get(lease.key)?.lease === lease)
        .catch((error: unknown) =>
          this.#logger.warn(`s3: renewing leases under ${this.#prefix} failed; retrying`, {
            error: String(error),
          }),
        )
        .finally(() => {
          renewing = false;
        });
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops renewing (a renewal under way finishes). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
