/**
 * The worker: claims ready flows atomically under a lease, runs them with a
 * concurrency limit, heartbeats, sleeps until work is likely (store events,
 * the next due time, adaptive polling — never a fixed 1 s poll), and shuts
 * down gracefully, releasing leases so others resume at once.
 *
 * @module
 */
import { type ServedVersions, servedVersions } from './internal/versions.js';
import { hostname } from 'node:os';
import {
  type ClaimedFlow,
  type Clock,
  type Codec,
  defaultCodec,
  InvalidArgumentError,
  type Logger,
  noopLogger,
  type RuntimeExecutionLog,
  runtimeStore,
  systemClock,
  toError,
  toMillis,
  uuidv7,
} from '@ergon/core';
import { toFlowDefinition } from './decorators.js';
import { type AnyFlowDefinition, validateName } from './definitions.js';
import { Housekeeping } from './internal/housekeeping.js';
import { HOST, Presence } from './internal/presence.js';
import { DEFAULT_MAX_ABANDONED_RUNS } from './internal/abandon.js';
import { RunControl, runClaimed } from './internal/runner.js';
import { observeQueueDepth } from './internal/telemetry.js';
import { tickKey } from './flow-control.js';
import { ScheduleRunner } from './schedules/runner.js';
import type { StopOptions, WorkerOptions } from './worker-options.js';

export type { StopOptions, WorkerOptions } from './worker-options.js';

const MIN_POLL_MS = 2;
/** The longest a worker waits between claims while due flows are held back by flow control. */
const BLOCKED_POLL_MAX_MS = 100;

/**
 * The reason an idle sleep is cut short. `abort()` without a reason builds a
 * DOMException (with a stack) on every call, even on an aborted signal, and
 * every finished flow wakes the loop.
 */
const WOKEN = Object.freeze({ woken: true });

/** Runs flows from a store. `start()` it; `stop()` it on shutdown. */
export class Worker {
  /** This worker's id: the lease owner of the flows it runs, and its registry id. */
  readonly id: string;
  readonly #store: RuntimeExecutionLog;
  readonly #flows: ReadonlyMap<string, AnyFlowDefinition>;
  readonly #queues: readonly string[];
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #heartbeatMs: number;
  readonly #durableBackoffMs: number;
  readonly #maxAbandonedRuns: number;
  /** Per flow type, the recorded versions this worker serves. */
  readonly #versions: ServedVersions;
  readonly #maxIdleMs: number;
  readonly #housekeeping: Housekeeping;
  readonly #presence: Presence | undefined;
  readonly #schedules: ScheduleRunner | undefined;
  readonly #startedAt = Date.now();
  #flowsRun = 0;
  #flowsFailed = 0;
  readonly #clock: Clock;
  readonly #codec: Codec;
  readonly #logger: Logger;
  readonly #options: WorkerOptions;
  readonly #running = new Map<string, { promise: Promise<void>; control: RunControl }>();
  #loop: Promise<void> | undefined;
  #stopping: AbortController | undefined;
  #wake: (() => void) | undefined;
  #pendingWake = false;
  /** Flows were due but the last claim took none: flow control holds them back (see `#idle`). */
  #blocked = false;
  #stopObserving: () => void = () => {};

  constructor(options: WorkerOptions) {
    if (!options?.store) throw new InvalidArgumentError('Worker needs a store');
    const store = runtimeStore(options.store, { logger: options.logger });
    const flows = new Map<string, AnyFlowDefinition>();
    for (const source of options.flows ?? []) {
      const definition = toFlowDefinition(source);
      flows.set(definition.name, definition);
    }
    if (flows.size === 0) throw new InvalidArgumentError('Worker needs at least one flow in `flows`');
    const concurrency = options.concurrency ?? 10;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new InvalidArgumentError(`Worker concurrency must be a whole number ≥ 1 (got ${concurrency})`);
    }
    this.id = options.id ?? `${hostname()}-${process.pid}-${uuidv7().slice(-8)}`;
    this.#store = store;
    this.#flows = flows;
    this.#queues = Object.freeze((options.queues ?? ['default']).map((q) => validateName(q, 'queue name')));
    this.#concurrency = concurrency;
    this.#leaseMs = toMillis(options.lease ?? '15s', 'lease');
    this.#heartbeatMs = toMillis(
      options.heartbeat ?? Math.max(1, Math.floor(this.#leaseMs / 3)),
      'heartbeat',
    );
    if (this.#leaseMs < 10 || this.#heartbeatMs >= this.#leaseMs) {
      throw new InvalidArgumentError(
        'Worker heartbeat must be shorter than the lease (and the lease ≥ 10 ms)',
      );
    }
    this.#durableBackoffMs = toMillis(options.durableBackoff ?? '5s', 'durableBackoff');
    this.#maxAbandonedRuns = options.maxAbandonedRuns ?? DEFAULT_MAX_ABANDONED_RUNS;
    this.#versions = servedVersions(flows, options.versions);
    if (!Number.isInteger(this.#maxAbandonedRuns) || this.#maxAbandonedRuns < 1) {
      throw new InvalidArgumentError(
        `Worker maxAbandonedRuns must be a whole number ≥ 1 (got ${options.maxAbandonedRuns})`,
      );
    }
    this.#maxIdleMs = toMillis(options.maxIdle ?? (store.capabilities.events ? '10s' : '1s'), 'maxIdle');
    this.#clock = options.clock ?? systemClock;
    this.#codec = options.codec ?? defaultCodec;
    this.#logger = (options.logger ?? noopLogger).child({ workerId: this.id });
    this.#options = options;
    this.#housekeeping = new Housekeeping({
      store,
      clock: this.#clock,
      logger: this.#logger,
      queues: this.#queues,
      known: flows,
      retentionMs: options.retention === undefined ? undefined : toMillis(options.retention, 'retention'),
      unknownCheckMs: toMillis(options.unknownTypeCheck ?? '30s', 'unknownTypeCheck'),
      onUnknownType: options.onUnknownType,
    });
    this.#schedules =
      options.schedules === false
        ? undefined
        : new ScheduleRunner({
            store,
            clock: this.#clock,
            logger: this.#logger,
            types: [...flows.keys()],
            checkMs: toMillis(options.schedules?.check ?? '5s', 'schedules check'),
            control: (type, input) => tickKey(flows.get(type), this.#codec, input),
          });
    const liveness = options.liveness ?? {};
    this.#presence =
      liveness === false
        ? undefined
        : new Presence({
            store,
            clock: this.#clock,
            logger: this.#logger,
            heartbeatMs: toMillis(liveness.heartbeat ?? '500ms', 'liveness heartbeat'),
            lapseMs: toMillis(liveness.lapse ?? '2s', 'liveness lapse'),
            info: () => ({
              id: this.id,
              kind: 'worker',
              name: options.name,
              host: HOST,
              pid: process.pid,
              queues: this.#queues,
              types: [...this.#flows.keys()],
              concurrency: this.#concurrency,
              startedAt: this.#startedAt,
              stats: JSON.stringify({
                active: this.#running.size,
                flowsRun: this.#flowsRun,
                failed: this.#flowsFailed,
                // Which recorded versions it serves, so a refusal can say whether any live worker does.
                ...(this.#versions.size > 0 ? { versions: Object.fromEntries(this.#versions) } : {}),
              }),
            }),
            onReaped: () => this.#notify(),
          });
  }

  /** Flows running now. */
  get active(): number {
    return this.#running.size;
  }

  /** True between `start()` and the end of `stop()`. */
  get running(): boolean {
    return this.#loop !== undefined;
  }

  /** Starts claiming. Idempotent. */
  start(): this {
    if (this.#loop) return this;
    this.#stopping = new AbortController();
    this.#stopObserving = observeQueueDepth(this.#queues, async (queue) => {
      const page = await this.#store.listFlows({ status: 'pending', queue, limit: 1000 });
      return page.flows.length;
    });
    this.#loop = this.#run(this.#stopping.signal).catch((error) => {
      this.#logger.error('worker loop crashed', { error: toError(error).message });
    });
    this.#presence?.start();
    this.#schedules?.start();
    return this;
  }

  /**
   * Stops claiming, lets in-flight runs finish within the timeout, then
   * releases the leases of what is still running so another worker resumes
   * it at once. Idempotent.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (!this.#loop || !this.#stopping) return;
    this.#stopObserving();
    const timeoutMs = toMillis(options.timeout ?? '10s', 'stop timeout');
    this.#stopping.abort();
    this.#notify();
    const schedulesStopped = this.#schedules?.stop();
    // The deadline covers the claim loop too: a store that hangs must not hang shutdown.
    const loop = this.#loop;
    const settled = () => Promise.all([loop, ...[...this.#running.values()].map((r) => r.promise)]);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const first = await Promise.race([loop.then(settled), deadline]);
    if (first === 'timeout') {
      for (const run of this.#running.values()) run.control.stop();
      await Promise.race([settled(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
    clearTimeout(timer);
    // A pass held up by a store that hangs must not hang shutdown: it ends on its own.
    await Promise.race([schedulesStopped, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    await this.#presence?.stop();
    this.#loop = undefined;
  }

  async #run(stopping: AbortSignal): Promise<void> {
    const types = [...this.#flows.keys()];
    const unsubscribe = this.#store.subscribe?.((event) => {
      if (event.type === 'ready') {
        if (this.#queues.includes(event.queue)) this.#notify();
      } else if (event.type === 'finished') {
        // A flow that stops may free a queue or key slot the held-back flows wait for.
        if (this.#blocked) this.#notify();
      } else if (event.type === 'cancel-requested') {
        // The holder learns of a cancel at once rather than at its next heartbeat.
        this.#running.get(event.flowId)?.control.cancel();
      }
    });
    let pollMs = MIN_POLL_MS;
    try {
      while (!stopping.aborted) {
        const free = this.#concurrency - this.#running.size;
        let claimed: ClaimedFlow[] = [];
        if (free > 0) {
          try {
            const sentAt = performance.now();
            claimed = await this.#store.claim({
              workerId: this.id,
              types,
              queues: this.#queues,
              limit: free,
              leaseMs: this.#leaseMs,
              now: this.#clock.now(),
            });
            // A claim answered after its lease ran out (a reply held back by a
            // reconnect) may already belong to someone else: let it go.
            if (claimed.length > 0 && performance.now() - sentAt >= this.#leaseMs) {
              this.#logger.warn('claim answered after its lease expired; leaving the flows to others', {
                count: claimed.length,
              });
              claimed = [];
            }
          } catch (error) {
            this.#logger.warn('claim failed; retrying', { error: toError(error).message });
          }
          for (const flow of claimed) this.#spawn(flow);
          if (claimed.length > 0) {
            pollMs = MIN_POLL_MS;
            if (claimed.length === free) continue;
          }
        }
        await this.#housekeeping.run();
        await this.#idle(stopping, free > 0 && claimed.length === 0 ? pollMs : this.#maxIdleMs, types);
        pollMs = Math.min(pollMs * 2, this.#maxIdleMs);
      }
    } finally {
      unsubscribe?.();
    }
  }

  /** Sleeps until notified, a run finishes, the next due time, or `pollMs`, whichever is first. */
  async #idle(stopping: AbortSignal, pollMs: number, types: string[]): Promise<void> {
    if (this.#pendingWake) {
      this.#pendingWake = false;
      return;
    }
    let timeout = pollMs;
    if (this.#running.size < this.#concurrency) {
      try {
        const next = await this.#store.nextWakeAt({ types, queues: this.#queues });
        const wait = next === undefined ? undefined : next - this.#clock.now();
        // Due already yet not claimed: a queue's limits hold it back (or another worker took it).
        // Back off, capped so that an opened rate window or a freed slot is seen soon.
        this.#blocked = wait !== undefined && wait <= 0;
        if (wait !== undefined) timeout = Math.min(timeout, wait > 0 ? wait : BLOCKED_POLL_MAX_MS);
      } catch (error) {
        this.#logger.warn('nextWakeAt failed', { error: toError(error).message });
      }
    }
    if (this.#pendingWake || stopping.aborted) {
      this.#pendingWake = false;
      return;
    }
    const wake = new AbortController();
    this.#wake = () => {
      this.#wake = undefined;
      wake.abort(WOKEN);
    };
    try {
      await Promise.race([
        this.#clock.sleep(timeout, wake.signal).catch(() => {}),
        // The fake clock never advances by itself; a real-time cap keeps tests live.
        new Promise<void>((resolve) => setTimeout(resolve, Math.max(timeout, this.#maxIdleMs)).unref()),
      ]);
    } finally {
      this.#wake = undefined;
      wake.abort(WOKEN);
      this.#pendingWake = false;
    }
  }

  #notify(): void {
    if (this.#wake) this.#wake();
    else this.#pendingWake = true;
  }

  #spawn(claimed: ClaimedFlow): void {
    const control = new RunControl();
    const promise = runClaimed(
      {
        store: this.#store,
        codec: this.#codec,
        clock: this.#clock,
        logger: this.#logger,
        flows: this.#flows,
        workerId: this.id,
        leaseMs: this.#leaseMs,
        heartbeatMs: this.#heartbeatMs,
        durableBackoffMs: this.#durableBackoffMs,
        maxAbandonedRuns: this.#maxAbandonedRuns,
        versions: this.#versions,
      },
      claimed,
      control,
    ).then(async (outcome) => {
      this.#running.delete(claimed.flow.id);
      this.#flowsRun++;
      if (outcome.status === 'failed') this.#flowsFailed++;
      if (outcome.status === 'abandoned' && control.stopRequested) {
        await this.#store
          .releaseLease({ flowId: claimed.flow.id, token: claimed.token, now: this.#clock.now() })
          .catch(() => {});
      }
      try {
        this.#options.onOutcome?.(claimed.flow.id, outcome);
      } catch (error) {
        this.#logger.warn('onOutcome threw', { error: toError(error).message });
      }
      this.#notify();
    });
    this.#running.set(claimed.flow.id, { promise, control });
  }
}
