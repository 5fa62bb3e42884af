/**
 * Keeping claims alive: while any object is held, the lease markers of the
 * held objects are renewed every third of the lease, one renewal at a time
 * (a slow one must not race the next); a failed renewal is logged and the
 * next one tries again.
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
    this.#intervalMs = Math.floor(options.leaseMs / 3);
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
      renewing = true;
      this.#claims
        .renew(this.#held.leases(), (lease) => this.#held.get(lease.key)?.lease === lease)
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
