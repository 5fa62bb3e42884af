/**
 * Store events without a fixed poll. Every connection to one file in this
 * process shares one notifier: a write emits its events to every subscriber
 * right after commit. Commits of other processes are noticed by reading
 * `PRAGMA data_version` (a counter read from shared memory, no disk access),
 * and the events they wrote to the change feed (table `events`) are then read
 * and emitted (`feed-reader.ts`). It is read as soon as another process rings
 * the file's doorbell (see `doorbell.ts`), and on an adaptive poll that keeps
 * everything correct where rings are not heard. Both run only while someone
 * is subscribed, and neither keeps the process alive.
 *
 * @module
 */
import type { StoreEvent } from '@ergon/core';
import type { Doorbell } from './doorbell.js';
import { type ChangeSource, FeedCursor } from './feed-reader.js';

/** A subscriber. */
export type Listener = (event: StoreEvent) => void;

/** How the notifier looks for other processes' commits. */
export interface NotifierOptions {
  /** Fastest and slowest poll interval, in ms (see `pollIntervalMs` of the store). */
  readonly pollIntervalMs: readonly [number, number];
  /** The file's doorbell, rung and watched; undefined to rely on the poll alone. */
  readonly doorbell?: Doorbell | undefined;
}

/**
 * Fans events out to subscribers; while anyone listens, polls for other processes'
 * commits and looks at once when another process rings the doorbell.
 */
export class ChangeNotifier {
  readonly #listeners = new Set<Listener>();
  readonly #sources: ChangeSource[] = [];
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #doorbell: Doorbell | undefined;
  #active = false;
  #timer: NodeJS.Timeout | undefined;
  #dueAt = 0;
  #intervalMs: number;
  #unwatch: (() => void) | undefined;
  #lookQueued = false;
  #ringTimer: NodeJS.Timeout | undefined;
  #rungAt = Number.NEGATIVE_INFINITY;
  #changedAt = Number.NEGATIVE_INFINITY;
  readonly #feed = new FeedCursor();

  constructor(options: NotifierOptions) {
    [this.#minMs, this.#maxMs] = options.pollIntervalMs;
    this.#doorbell = options.doorbell;
    this.#intervalMs = this.#minMs;
  }

  /** Delivers events to every subscriber in a microtask (after the commit that made them). */
  emit(events: readonly StoreEvent[]): void {
    if (this.#listeners.size === 0 || events.length === 0) return;
    const listeners = [...this.#listeners];
    queueMicrotask(() => {
      // Listeners come through the runtime wrapper, which isolates one that throws.
      for (const event of events) {
        for (const listener of listeners) listener(event);
      }
    });
  }

  /**
   * Tells other processes' notifiers that a commit wrote events to the feed. The first
   * commit after a quiet spell rings at once; later ones ring together at the end of a
   * `min` ms window, so a stream of commits costs watchers one wake-up per window.
   */
  ring(): void {
    const doorbell = this.#doorbell;
    if (!doorbell || this.#ringTimer) return;
    const now = performance.now();
    const next = this.#rungAt + this.#minMs;
    if (now >= next) {
      this.#rungAt = now;
      doorbell.ring();
      return;
    }
    this.#ringTimer = setTimeout(() => {
      this.#ringTimer = undefined;
      this.#rungAt = performance.now();
      doorbell.ring();
    }, next - now);
    // Never keeps the process alive: a ring lost at exit is made up by the others' poll.
    this.#ringTimer.unref();
  }

  /** Stops watching and closes the doorbell (the last connection to the file left). */
  close(): void {
    this.#stop();
    if (this.#ringTimer) {
      clearTimeout(this.#ringTimer);
      this.#ringTimer = undefined;
      this.#doorbell?.ring();
    }
    this.#doorbell?.close();
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
    this.#feed.drop(source);
    if (this.#sources.length === 0) this.#stop();
    return this.#sources.length === 0;
  }

  #start(): void {
    const source = this.#sources[0];
    if (this.#active || this.#listeners.size === 0 || !source) return;
    this.#active = true;
    // Take the baseline now, so a commit right after subscribing is not missed.
    if (!this.#feed.started) this.#feed.baseline(source);
    this.#intervalMs = this.#minMs;
    this.#unwatch = this.#doorbell?.watch(() => this.#rung());
    this.#schedule(this.#intervalMs);
  }

  #stop(): void {
    this.#active = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    // Forget the cursor: a later subscriber gets only events committed after it subscribed.
    this.#feed.forget();
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#dueAt = performance.now() + delayMs;
    this.#timer = setTimeout(() => this.#tick(), delayMs);
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#active) return;
    const changed = this.#look();
    this.#intervalMs = changed ? this.#minMs : Math.min(this.#maxMs, this.#intervalMs * 2);
    this.#schedule(this.#intervalMs);
  }

  /** The doorbell rang: look once the rings of this loop turn are in (one look per burst). */
  #rung(): void {
    if (this.#lookQueued) return;
    this.#lookQueued = true;
    setImmediate(() => {
      this.#lookQueued = false;
      if (this.#active) this.#lookNow();
    });
  }

  #lookNow(): void {
    const now = performance.now();
    // The feed is read at most every `min` ms: a stream of commits costs one read per interval.
    const earliest = this.#changedAt + this.#minMs;
    if (now < earliest) {
      if (this.#dueAt > earliest) {
        this.#intervalMs = this.#minMs;
        this.#schedule(earliest - now);
      }
      return;
    }
    // Unchanged means the ring was this process's own: nothing to do.
    if (this.#look()) {
      this.#intervalMs = this.#minMs;
      this.#schedule(this.#minMs);
    }
  }

  /** Reads data_version and, when it moved, the feed. True when another connection committed. */
  #look(): boolean {
    const source = this.#sources[0];
    if (!source || this.#listeners.size === 0) return false;
    let changed = false;
    try {
      if (!this.#feed.started) this.#feed.baseline(source);
      else changed = this.#feed.moved(source);
      if (changed) {
        this.#changedAt = performance.now();
        this.#drain(source);
      }
    } catch {
      // A transient read failure (lock, closing connection): the next tick tries again.
    }
    return changed;
  }

  #drain(source: ChangeSource): void {
    const events: StoreEvent[] = [];
    try {
      this.#feed.read(source, events);
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
  options: NotifierOptions,
): ChangeNotifier {
  let notifier = notifiers.get(key);
  if (!notifier) {
    notifier = new ChangeNotifier(options);
    notifiers.set(key, notifier);
  }
  if (source) notifier.attach(source);
  return notifier;
}

/** Leaves the notifier of a file; the last one out removes it. */
export function leaveNotifier(key: string, source: ChangeSource | undefined): void {
  const notifier = notifiers.get(key);
  if (!notifier) return;
  if (source ? notifier.detach(source) : true) {
    notifiers.delete(key);
    notifier.close();
  }
}
