/**
 * A pool of worker threads for CPU-bound work (the threaded model). Each
 * thread runs one job at a time. A job whose signal fires (its timeout, the
 * transaction's, or the shutdown deadline) has its thread terminated — the
 * work really stops — and the pool starts a fresh thread for the next job.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';
import { defaultCodec, ErgonError, ErrorCode, toError } from '@ergon/core';
import { entryUrl } from '../internal/entry.js';
import type { ThreadScope, ThreadWork } from '../task/thread-work.js';

interface Job {
  readonly id: number;
  readonly work: ThreadWork<unknown, unknown>;
  readonly input: unknown;
  readonly scope: ThreadScope;
  readonly signal: AbortSignal;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
}

/** Counters of a pool. */
export interface ThreadPoolStats {
  /** Threads started. */
  readonly created: number;
  /** Threads terminated because their job overran or was aborted. */
  readonly terminated: number;
}

/** A fixed-size pool of worker threads. */
export class ThreadPool {
  readonly #size: number;
  readonly #slots = new Set<Slot>();
  readonly #queue: Job[] = [];
  #nextId = 1;
  #created = 0;
  #terminated = 0;
  #closed = false;

  constructor(size: number) {
    this.#size = size;
  }

  /** Counters so far. */
  get stats(): ThreadPoolStats {
    return { created: this.#created, terminated: this.#terminated };
  }

  /** Runs `work(input, scope)` on a thread. Rejects with the signal's reason as soon as it fires. */
  run<R>(work: ThreadWork<unknown, R>, input: unknown, scope: ThreadScope, signal: AbortSignal): Promise<R> {
    if (this.#closed) return Promise.reject(new ErgonError(ErrorCode.ABORTED, 'thread pool is closed'));
    if (signal.aborted) return Promise.reject(toError(signal.reason));
    return new Promise<R>((resolve, reject) => {
      const job: Job = {
        id: this.#nextId++,
        work: work as ThreadWork<unknown, unknown>,
        input,
        scope,
        signal,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      signal.addEventListener('abort', () => this.#abort(job), { once: true });
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  /** Terminates every thread; queued jobs are rejected with `ABORTED`. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0))
      job.reject(new ErgonError(ErrorCode.ABORTED, 'thread pool closed'));
    await Promise.all([...this.#slots].map((slot) => this.#retire(slot, false)));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = [...this.#slots].find((s) => s.job === undefined);
      if (!slot && this.#slots.size < this.#size) slot = this.#spawn();
      if (!slot) return;
      const job = this.#queue.shift() as Job;
      slot.job = job;
      slot.worker.ref();
      const { module, export: name } = job.work;
      slot.worker.postMessage({ id: job.id, module, export: name, input: job.input, scope: job.scope });
    }
  }

  #spawn(): Slot {
    const worker = new Worker(entryUrl('thread-entry'));
    const slot: Slot = { worker, job: undefined };
    this.#created++;
    this.#slots.add(slot);
    worker.on('message', (message: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      const job = slot.job;
      if (!job || job.id !== message.id) return;
      this.#finish(slot);
      if (message.ok) job.resolve(message.value);
      else job.reject(toError(defaultCodec.decode(message.error as string, 'thread work error')));
    });
    const fail = (error: Error) => {
      const job = slot.job;
      this.#slots.delete(slot);
      job?.reject(
        new ErgonError(ErrorCode.INTERNAL, `worker thread died: ${error.message}`, { cause: error }),
      );
      this.#dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.#slots.has(slot)) fail(new Error(`exited with code ${code}`));
    });
    worker.unref();
    return slot;
  }

  #finish(slot: Slot): void {
    slot.job = undefined;
    slot.worker.unref();
    this.#dispatch();
  }

  #abort(job: Job): void {
    const queued = this.#queue.indexOf(job);
    if (queued !== -1) {
      this.#queue.splice(queued, 1);
      job.reject(toError(job.signal.reason));
      return;
    }
    const slot = [...this.#slots].find((s) => s.job === job);
    if (!slot) return;
    job.reject(toError(job.signal.reason));
    void this.#retire(slot, true).then(() => this.#dispatch());
  }

  /** Terminates a thread: the only way to stop JavaScript that does not yield. */
  async #retire(slot: Slot, overran: boolean): Promise<void> {
    this.#slots.delete(slot);
    slot.job = undefined;
    if (overran) this.#terminated++;
    await slot.worker.terminate();
  }
}
