/**
 * Renewals of held entries: their idle time is reset every third of
 * `claimIdle`, so no other consumer's sweep takes them over while they are
 * worked on.
 *
 * @module
 */
import type { Logger } from '@ergon/core';
import type { Redis } from 'ioredis';
import type { ResolvedStreamOptions } from '../options.js';
import type { HeldEntries } from './held.js';
import { touchEntries } from './scripts.js';

/** The renewal timer of one consumer. */
export class HeldRenewal {
  readonly #client: () => Redis;
  readonly #options: ResolvedStreamOptions;
  readonly #held: HeldEntries;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;

  /** `client`: the command connection, read at each renewal (the service may have reconnected). */
  constructor(client: () => Redis, options: ResolvedStreamOptions, held: HeldEntries, logger: Logger) {
    this.#client = client;
    this.#options = options;
    this.#held = held;
    this.#logger = logger;
  }

  /** Starts renewing (a timer that keeps no process alive). Idempotent. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(
      () => void this.#renew(),
      Math.max(10, Math.floor(this.#options.claimIdleMs / 3)),
    );
    this.#timer.unref();
  }

  /** Stops renewing. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Resets the idle time of held entries; warns about those another consumer took over meanwhile. */
  async #renew(): Promise<void> {
    const ids = this.#held.ids();
    if (ids.length === 0 || !this.#timer) return;
    const { stream, group, consumer } = this.#options;
    try {
      const lost = await touchEntries(this.#client(), { stream, group, consumer, idleMs: 0, ids });
      const stillHeld = lost.filter((id) => this.#held.has(id));
      if (stillHeld.length > 0) {
        this.#logger.warn(
          `redis streams: ${stillHeld.length} entries of ${stream} held by ${consumer} were taken over by another consumer ` +
            '(this process stalled longer than claimIdle); they may be processed twice',
          { ids: stillHeld.slice(0, 10) },
        );
      }
    } catch (error) {
      this.#logger.warn(`redis streams: renewing held entries of ${stream} failed; retrying`, {
        error: String(error),
      });
    }
  }
}
