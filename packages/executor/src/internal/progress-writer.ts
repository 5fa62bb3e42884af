/**
 * The progress writer of one activation (`ctx.progress`): the latest value
 * wins and writes are coalesced. At most one `setProgress` is in flight per
 * flow; a value reported meanwhile is queued, and a later one replaces it, so
 * a flow reporting thousands of times a second costs one store round trip at
 * a time. Each report's promise settles when a write covering it is durable:
 * its own, or that of a value that replaced it.
 *
 * Progress is not history: it takes no position, so replay never sees it.
 * A failed write (a lost lease, an unreachable store) ends the activation as
 * any failed write of its run does; the reports it covered reject with that
 * error. Every promise handed out is marked handled, so a report nobody
 * awaits never becomes an unhandled rejection (the run is abandoned anyway).
 *
 * @module
 */
import {
  type Clock,
  type LeaseRef,
  MAX_PROGRESS_BYTES,
  ProgressTooLargeError,
  type RuntimeExecutionLog,
  toError,
} from '@ergon/core';
import { FlowCancelledError } from '../errors.js';
import type { ActivationOptions } from './activation-types.js';

/** What `ctx.progress` needs from its activation. */
export interface ProgressHost {
  readonly flowId: string;
  readonly options: ActivationOptions;
  /** True while the code replays recorded history. */
  readonly replaying: boolean;
  ended(): boolean;
  /** The activation's writer, made at its first live report. */
  progressWriter(): ProgressWriter;
}

/**
 * `ctx.progress(value)`: encodes and checks the value (on replay too, so a value that cannot be
 * stored fails the same way every time), then hands it to the writer, except while the code
 * replays recorded history: it reports what it reported when it first ran, and writing that
 * again would only move the progress shown backwards until the code catches up.
 */
export function reportProgress(host: ProgressHost, value: unknown): Promise<void> {
  if (host.ended()) {
    return handled(Promise.reject(new FlowCancelledError(host.flowId, 'the flow activation has ended')));
  }
  let encoded: string;
  try {
    encoded = host.options.codec.encode(value, `progress of flow ${host.flowId}`);
    checkProgressSize(host.flowId, encoded);
  } catch (error) {
    // Said in the log too: reports often go unawaited.
    host.options.logger.warn('ctx.progress refused a value', {
      flowId: host.flowId,
      error: toError(error).message,
    });
    return handled(Promise.reject(error));
  }
  if (host.replaying) return Promise.resolve();
  return host.progressWriter().report(encoded);
}

/** What a {@link ProgressWriter} needs from its activation. */
export interface ProgressWriterOptions {
  readonly store: RuntimeExecutionLog;
  readonly lease: LeaseRef;
  readonly clock: Clock;
  /** The flow's stored progress when the writer starts: a report of the same value writes nothing. */
  readonly stored: string | undefined;
  /** The store reported a cancel request. */
  readonly onCancelRequested: () => void;
  /** A write failed: the activation is abandoned (a no-op once it has ended). */
  readonly onFailed: (error: unknown) => void;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** A value to write, and every report it covers. */
interface Batch {
  encoded: string;
  readonly waiters: Waiter[];
}

/** Writes one activation's progress, coalesced. */
export class ProgressWriter {
  readonly #o: ProgressWriterOptions;
  /** The value the store holds, as far as this writer knows. */
  #stored: string | undefined;
  /** The write in flight. */
  #flying: Batch | undefined;
  /** The value to write after it (the latest reported). */
  #queued: Batch | undefined;
  #pumping: Promise<void> | undefined;
  #failure: unknown;

  constructor(options: ProgressWriterOptions) {
    this.#o = options;
    this.#stored = options.stored;
  }

  /** The value the store holds, as far as this writer knows (the next activation starts from it). */
  get stored(): string | undefined {
    return this.#stored;
  }

  /**
   * Queues an encoded value (checked with {@link checkProgressSize}); resolves once it (or a
   * later value) is durable, at once when the store holds it already, and rejects with the
   * store's error when the write fails.
   */
  report(encoded: string): Promise<void> {
    if (this.#failure !== undefined) return handled(Promise.reject(this.#failure));
    const promise = new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      const flying = this.#flying;
      if (flying?.encoded === encoded) {
        // The write in flight covers it, and supersedes whatever was queued after it.
        flying.waiters.push(waiter, ...(this.#queued?.waiters ?? []));
        this.#queued = undefined;
      } else if (!flying && encoded === this.#stored) {
        resolve();
      } else if (this.#queued) {
        this.#queued.encoded = encoded;
        this.#queued.waiters.push(waiter);
      } else {
        this.#queued = { encoded, waiters: [waiter] };
      }
    });
    if (this.#queued) this.#pumping ??= this.#pump();
    return handled(promise);
  }

  /**
   * Resolves once nothing is queued or in flight (never rejects): the run waits on it before it
   * ends. Undefined when nothing is.
   */
  drained(): Promise<void> | undefined {
    return this.#pumping;
  }

  async #pump(): Promise<void> {
    const { store, lease, clock } = this.#o;
    try {
      for (let batch = this.#queued; batch; batch = this.#queued) {
        this.#queued = undefined;
        this.#flying = batch;
        try {
          const written = await store.setProgress({ ...lease, progress: batch.encoded, now: clock.now() });
          if (written.cancelRequested) this.#o.onCancelRequested();
        } catch (error) {
          this.#fail(error, batch);
          return;
        }
        this.#stored = batch.encoded;
        this.#flying = undefined;
        for (const waiter of batch.waiters) waiter.resolve();
      }
    } finally {
      this.#flying = undefined;
      this.#pumping = undefined;
    }
  }

  /** Ends the activation and rejects every report not yet durable, and those to come. */
  #fail(error: unknown, batch: Batch): void {
    this.#failure = error;
    const waiters = [...batch.waiters, ...(this.#queued?.waiters ?? [])];
    this.#queued = undefined;
    this.#o.onFailed(error);
    for (const waiter of waiters) waiter.reject(error);
  }
}

/**
 * Refuses an encoded value over {@link MAX_PROGRESS_BYTES} when it is reported, before it is
 * queued (the store's wrapper would refuse it too, but only once it is written).
 * @throws ProgressTooLargeError
 */
export function checkProgressSize(flowId: string, encoded: string): void {
  const bytes = encoded.length * 3 <= MAX_PROGRESS_BYTES ? encoded.length : Buffer.byteLength(encoded);
  if (bytes > MAX_PROGRESS_BYTES) throw new ProgressTooLargeError(flowId, bytes, MAX_PROGRESS_BYTES);
}

/** Marks `promise` handled (a report nobody awaits must not crash the process) and returns it. */
export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
