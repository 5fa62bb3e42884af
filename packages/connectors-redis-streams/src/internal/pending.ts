/**
 * Entries pending in the group that no fetch of this consumer returned:
 * its own, delivered in a reply that was lost or before a restart, and
 * any consumer's, idle past `claimIdle` (a dead consumer's). Both are
 * claimed here and delivered again with their delivery counts; entries
 * trimmed from the stream meanwhile are dead-lettered.
 *
 * @module
 */
import { ErgonError, ErrorCode, type Logger } from '@ergon/core';
import type { Redis } from 'ioredis';
import { deadLetterFields } from '../dead-letters.js';
import type { ResolvedStreamOptions } from '../options.js';
import {
  type Delivery,
  parseAutoClaimReply,
  parseEntries,
  parsePendingCounts,
  type RawEntry,
  withBufferCommands,
} from './entries.js';
import { replyCode } from './errors.js';
import type { HeldEntries } from './held.js';

/** Pending entries looked at per page while recovering. */
const RECOVER_PAGE = 100;

/** What the sweeps use of their consumer. */
export interface PendingHost {
  /** The command connection. */
  readonly client: Redis;
  readonly options: ResolvedStreamOptions;
  /** The consumer's held entries (never taken again here). */
  readonly held: HeldEntries;
  readonly logger: Logger;
  /** Makes the group again when it was deleted. */
  ensureGroup(): Promise<void>;
  /** Moves an entry to the dead-letter stream (and acks it). */
  deadLetter(id: string, fields: readonly string[], onlyIfPending: boolean): Promise<void>;
  /** The connector error for a failed `action`. */
  error(error: unknown, action: string): Error;
}

/** The recovery of own unknown entries and the sweep over idle ones, for one consumer. */
export class PendingEntries {
  /** Look for own pending entries nobody here knows of (first fetch, after a reconnect). */
  recover = true;
  readonly #host: PendingHost;
  readonly #claimEveryMs: number;
  #claimCursor = '0-0';
  #nextClaimAt = 0;

  constructor(host: PendingHost) {
    this.#host = host;
    this.#claimEveryMs = Math.min(5000, Math.max(50, Math.floor(host.options.claimIdleMs / 2)));
  }

  /** When the next sweep step is due (ms since the epoch; 0: now). */
  get nextClaimAt(): number {
    return this.#nextClaimAt;
  }

  /** Starts the sweep over from the first pending entry at the next fetch (entries were released). */
  sweepAgain(): void {
    this.#claimCursor = '0-0';
    this.#nextClaimAt = 0;
  }

  /**
   * Up to `count` own pending entries that nobody here holds (delivered in
   * a reply that was lost, or before a restart), claimed again; once none
   * are left, {@link recover} turns false.
   */
  async recoverOwn(count: number): Promise<Delivery[]> {
    const { stream, group, consumer } = this.#host.options;
    const unknown: string[] = [];
    let start = '-';
    let exhausted = false;
    while (unknown.length < count) {
      let page: unknown;
      try {
        page = await this.#host.client.xpending(stream, group, start, '+', RECOVER_PAGE, consumer);
      } catch (error) {
        if (replyCode(error) === 'NOGROUP') {
          await this.#host.ensureGroup();
          exhausted = true;
          break;
        }
        throw this.#host.error(error, 'list pending entries of');
      }
      const ids = [...parsePendingCounts(page).keys()];
      for (const id of ids) if (!this.#host.held.has(id) && unknown.length < count) unknown.push(id);
      if (ids.length < RECOVER_PAGE) {
        exhausted = true;
        break;
      }
      start = `(${ids[ids.length - 1]}`;
    }
    if (exhausted && unknown.length < count) this.recover = false;
    if (unknown.length === 0) return [];
    const claimed = parseEntries(
      await withBufferCommands(this.#host.client)
        .xclaimBuffer(stream, group, consumer, 0, ...unknown)
        .catch((error: unknown) => {
          throw this.#host.error(error, 'take back pending entries of');
        }),
    );
    await this.#deadLetterDeleted(unknown.filter((id) => !claimed.some((e) => e.id === id)));
    return this.#withCounts(claimed);
  }

  /** One XAUTOCLAIM step of the sweep over the group's pending entries (when {@link due}). */
  async reclaim(count: number): Promise<Delivery[]> {
    const { stream, group, consumer, claimIdleMs } = this.#host.options;
    let reply: ReturnType<typeof parseAutoClaimReply>;
    try {
      reply = parseAutoClaimReply(
        await withBufferCommands(this.#host.client).xautoclaimBuffer(
          ...[stream, group, consumer, claimIdleMs, this.#claimCursor, 'COUNT', count],
        ),
      );
    } catch (error) {
      if (replyCode(error) !== 'NOGROUP') throw this.#host.error(error, 'take over idle entries of');
      await this.#host.ensureGroup();
      return [];
    }
    this.#claimCursor = reply.cursor;
    // A finished sweep waits its interval; an unfinished one goes on at the next fetch.
    this.#nextClaimAt = reply.cursor === '0-0' ? Date.now() + this.#claimEveryMs : 0;
    const gone = [...reply.deleted, ...reply.entries.filter((e) => e.fields === null).map((e) => e.id)];
    await this.#deadLetterDeleted(gone);
    // Our own entries went idle (renewals stalled): they are ours already.
    const taken = reply.entries.filter((e) => e.fields !== null && !this.#host.held.has(e.id));
    return this.#withCounts(taken);
  }

  /** Entries with their delivery counts, read from the pending list (this delivery included). */
  async #withCounts(entries: readonly RawEntry[]): Promise<Delivery[]> {
    if (entries.length === 0) return [];
    const { stream, group, consumer } = this.#host.options;
    const first = entries[0] as RawEntry;
    const last = entries[entries.length - 1] as RawEntry;
    const counts = parsePendingCounts(
      await this.#host.client
        .xpending(stream, group, first.id, last.id, entries.length + this.#host.held.size + 10, consumer)
        .catch((error: unknown) => {
          throw this.#host.error(error, 'read delivery counts of');
        }),
    );
    return entries.map((entry) => ({ ...entry, deliveries: counts.get(entry.id) ?? 1 }));
  }

  /** Entries deleted (trimmed) before they were acked: recorded in the dead-letter stream, never silently lost. */
  async #deadLetterDeleted(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      this.#host.logger.warn(
        `redis streams: entry ${id} of ${this.#host.options.stream} was deleted before it was acked`,
      );
      const reason = new ErgonError(
        ErrorCode.CONNECTOR_ERROR,
        `entry ${id} was deleted from the stream (trimmed) before it was acked; its data is gone`,
      );
      await this.#host.deadLetter(id, deadLetterFields({ reason, entry: id }, this.#host.options), false);
    }
  }
}
