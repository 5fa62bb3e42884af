/**
 * Store events without a fixed poll. Every connection to one file in this
 * process shares one notifier: a write emits its events to every subscriber
 * right after commit. Commits of other processes are noticed by polling
 * `PRAGMA data_version` (a counter read from shared memory, no disk access)
 * on an adaptive interval, and the events they wrote to the change feed
 * (table `events`) are then read and emitted. The poll runs only while
 * someone is subscribed and its timer never keeps the process alive.
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

/** A subscriber. */
export type Listener = (event: StoreEvent) => void;

const FEED_PAGE = 256;

/** Fans events out to subscribers; polls for other processes' commits while anyone listens. */
export class ChangeNotifier {
  readonly #listeners = new Set<Listener>();
  readonly #sources: ChangeSource[] = [];
  readonly #minMs: number;
  readonly #maxMs: number;
  #timer: NodeJS.Timeout | undefined;
  #intervalMs: number;
  #polled: ChangeSource | undefined;
  #version = 0;
  #cursor: number | undefined;

  constructor(pollIntervalMs: readonly [number, number]) {
    [this.#minMs, this.#maxMs] = pollIntervalMs;
    this.#intervalMs = this.#minMs;
  }

  /** Delivers events to every subscriber in a microtask (after the commit that made them). */
  emit(events: readonly StoreEvent[]): void {
    if (this.#listeners.size === 0 || events.length === 0) return;
    const listeners = [...this.#listeners];
    queueMicrotask(() => {
      for (const event of events) {
        for (const listener of listeners) {
          try {
            listener(event);
          } catch {
            // A throwing subscriber must not starve the others nor fail the write that emitted.
          }
        }
      }
    });
  }

  /** Adds a subscriber; returns the function that removes it. */
  listen(listener: Listener): () => void {
    this.#listeners.add(listener);
    this.#start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  /** Adds a connection the poll may use. */
  attach(source: ChangeSource): void {
    this.#sources.push(source);
    this.#start();
  }

  /** Removes a connection. Returns true when no connection is left. */
  detach(source: ChangeSource): boolean {
    const index = this.#sources.indexOf(source);
    if (index >= 0) this.#sources.splice(index, 1);
    if (this.#polled === source) this.#polled = undefined;
    if (this.#sources.length === 0) this.#stop();
    return this.#sources.length === 0;
  }

  #start(): void {
    const source = this.#sources[0];
    if (this.#timer || this.#listeners.size === 0 || !source) return;
    // Take the baseline now, so a commit right after subscribing is not missed.
    if (this.#cursor === undefined) this.#baseline(source);
    this.#intervalMs = this.#minMs;
    this.#schedule();
  }

  #baseline(source: ChangeSource): void {
    try {
      this.#version = source.dataVersion();
      this.#cursor = source.lastSeq();
      this.#polled = source;
    } catch {
      // Locked or closing: the first tick takes the baseline instead.
    }
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // Forget the cursor: a later subscriber gets only events committed after it subscribed.
    this.#polled = undefined;
    this.#cursor = undefined;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = undefined;
    const source = this.#sources[0];
    if (!source || this.#listeners.size === 0) return;
    let changed = false;
    try {
      if (this.#cursor === undefined) {
        this.#baseline(source);
      } else if (source !== this.#polled) {
        // Another connection took over the poll: its data_version has its own baseline,
        // so read the feed once; the cursor carries over.
        this.#polled = source;
        this.#version = source.dataVersion();
        changed = true;
      } else {
        const version = source.dataVersion();
        changed = version !== this.#version;
        this.#version = version;
      }
      if (changed) this.#drain(source);
    } catch {
      // A transient read failure (lock, closing connection): the next tick tries again.
    }
    this.#intervalMs = changed ? this.#minMs : Math.min(this.#maxMs, this.#intervalMs * 2);
    this.#schedule();
  }

  #drain(source: ChangeSource): void {
    const events: StoreEvent[] = [];
    try {
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
    } finally {
      // Deliver what was read even if a later page failed: the cursor has moved past it.
      this.emit(events);
    }
  }
}

const notifiers = new Map<string, ChangeNotifier>();

/**
 * The notifier of a file in this process, created on first use. `source` is
 * undefined for a private database no other connection can change.
 */
export function joinNotifier(
  key: string,
  source: ChangeSource | undefined,
  pollIntervalMs: readonly [number, number],
): ChangeNotifier {
  let notifier = notifiers.get(key);
  if (!notifier) {
    notifier = new ChangeNotifier(pollIntervalMs);
    notifiers.set(key, notifier);
  }
  if (source) notifier.attach(source);
  return notifier;
}

/** Leaves the notifier of a file; the last one out removes it. */
export function leaveNotifier(key: string, source: ChangeSource | undefined): void {
  const notifier = notifiers.get(key);
  if (!notifier) return;
  if (source ? notifier.detach(source) : true) notifiers.delete(key);
}
