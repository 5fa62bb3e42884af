/**
 * Reading other processes' commits on one file: `PRAGMA data_version` (a
 * counter read from shared memory, no disk access) says whether another
 * connection committed, and the change feed (table `events`) after this
 * process's cursor says which events it wrote. When to look is the notifier's
 * part (`notifier.ts`); writing the feed is the outbox's (`feed.ts`).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { StoreEvent } from '@ergon/core';

/** This process's id in the change feed: its own events are emitted directly, not read back. */
export const ORIGIN = randomUUID();

/** A change-feed entry. */
export interface FeedEntry {
  readonly seq: number;
  readonly origin: string;
  readonly event: StoreEvent;
}

/** What a connection offers the poll. */
export interface ChangeSource {
  /** `PRAGMA data_version`: changes when another connection commits. */
  dataVersion(): number;
  /** The newest feed sequence number, or 0. */
  lastSeq(): number;
  /** Feed entries after `seq`, oldest first, at most `limit`. */
  readFeed(seq: number, limit: number): readonly FeedEntry[];
}

const FEED_PAGE = 256;

/** Where this process is in a file's change feed, and the `data_version` it last saw. */
export class FeedCursor {
  #polled: ChangeSource | undefined;
  #version = 0;
  #cursor: number | undefined;

  /** True once a baseline was taken (and not forgotten since). */
  get started(): boolean {
    return this.#cursor !== undefined;
  }

  /** Takes the baseline from `source`: later reads return only what is committed after it. */
  baseline(source: ChangeSource): void {
    try {
      this.#version = source.dataVersion();
      this.#cursor = source.lastSeq();
      this.#polled = source;
    } catch {
      // Locked or closing: the first tick takes the baseline instead.
    }
  }

  /** Forgets the baseline: a later subscriber gets only events committed after it subscribed. */
  forget(): void {
    this.#polled = undefined;
    this.#cursor = undefined;
  }

  /** `source` leaves: the next look reads through another connection. */
  drop(source: ChangeSource): void {
    if (this.#polled === source) this.#polled = undefined;
  }

  /**
   * True when another connection committed since the last look through `source`.
   * @throws what `source` throws (a lock, a closing connection).
   */
  moved(source: ChangeSource): boolean {
    if (source !== this.#polled) {
      // Another connection took over the poll: its data_version has its own baseline,
      // so read the feed once; the cursor carries over.
      this.#polled = source;
      this.#version = source.dataVersion();
      return true;
    }
    const version = source.dataVersion();
    const changed = version !== this.#version;
    this.#version = version;
    return changed;
  }

  /**
   * Reads the feed after the cursor, moving it, and adds the other processes' events to
   * `events`; what was read before a page failed stays there.
   * @throws what `source` throws.
   */
  read(source: ChangeSource, events: StoreEvent[]): void {
    // The feed was emptied behind our back (rowids restart): read it again from the start.
    if (source.lastSeq() < (this.#cursor ?? 0)) this.#cursor = 0;
    for (;;) {
      const entries = source.readFeed(this.#cursor ?? 0, FEED_PAGE);
      for (const entry of entries) {
        this.#cursor = entry.seq;
        if (entry.origin !== ORIGIN) events.push(entry.event);
      }
      if (entries.length < FEED_PAGE) break;
    }
  }
}
