/**
 * The worker: claims ready flows atomically under a lease, runs them with a
 * concurrency limit, heartbeats, sleeps until work is likely (store events,
 * the next due time, adaptive polling — never a fixed 1 s poll), and shuts
 * down gracefully, releasing leases so others resume at once; it can pause
 * (claiming nothing, still registered) and resume.
 *
 * @module
 */
import { type ClaimedFlow, toError, toMillis } from '@ergon/core';
import type { Housekeeping } from './internal/housekeeping.js';
import { IdleSleep } from './internal/idle.js';
import { drain, unpark } from './internal/pause.js';
import type { Presence } from './internal/presence.js';
import { observeQueueDepth } from './internal/telemetry.js';
import { workerParts } from './internal/worker-parts.js';
import { WorkerRuns } from './internal/worker-runs.js';
import { type WorkerSettings, workerSettings } from './internal/worker-settings.js';
import type { ScheduleRunner } from './schedules/runner.js';
import type { StopOptions, WorkerOptions } from './worker-options.js';

export type { StopOptions, WorkerOptions } from './worker-options.js';

const MIN_POLL_MS = 2;

/** Runs flows from a store. `start()` it; `stop()` it on shutdown. */
export class Worker {
  /** This worker's id: the lease owner of the flows it runs, and its registry id. */
  readonly id: string;
  /** Its resolved options; also what each of its runs is given. */
  readonly #s: WorkerSettings;
  readonly #idle: IdleSleep;
  readonly #housekeeping: Housekeeping;
  readonly #presence: Presence | undefined;
  readonly #schedules: ScheduleRunner | undefined;
  readonly #runs: WorkerRuns;
  /** Between `start()` and the end of `stop()`. */
  #started = false;
  /** Between `pause()` and `resume()` (or `stop()`). */
  #paused = false;
  /** While `stop()` is in progress: nothing claims again. */
  #stopping = false;
  /** The claim loop, while it runs (not while paused). */
  #loop: Promise<void> | undefined;
  /** Ends the claim loop of `#loop`. */
  #claiming: AbortController | undefined;
  /** A pause in progress: `resume()` starts claiming again once it is over. */
  #pausing: Promise<void> | undefined;
  #stopObserving: () => void = () => {};
  /** Ends the store subscription (at the end of `stop`, or when the claim loop crashes). */
  #unsubscribe: () => void = () => {};

  constructor(options: WorkerOptions) {
    const settings = workerSettings(options);
    this.id = settings.workerId;
    this.#s = settings;
    this.#idle = new IdleSleep(settings);
    this.#runs = new WorkerRuns(settings, {
      wake: () => this.#idle.wake(),
      claiming: () => this.#claiming?.signal.aborted === false,
      claimed: () => this.#idle.claimed(),
      outcome: options.onOutcome,
    });
    const parts = workerParts(options, settings, {
      startedAt: Date.now(),
      stats: () => ({
        ...(this.#paused ? { paused: true } : {}),
        active: this.#runs.size,
        flowsRun: this.#runs.flowsRun,
        failed: this.#runs.flowsFailed,
        // Which recorded versions it serves, so a refusal can say whether any live worker does.
        ...(settings.versions.size > 0 ? { versions: Object.fromEntries(settings.versions) } : {}),
      }),
      reaped: () => this.#idle.wake(),
    });
    this.#housekeeping = parts.housekeeping;
    this.#schedules = parts.schedules;
    this.#presence = parts.presence;
  }

  /** Flows running now. */
  get active(): number {
    return this.#runs.size;
  }

  /** True between `start()` and the end of `stop()`, paused or not. */
  get running(): boolean {
    return this.#started;
  }

  /** True between `pause()` and `resume()`: registered and heartbeating, claiming nothing. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Starts claiming. Idempotent. */
  start(): this {
    if (this.#started) return this;
    this.#started = true;
    this.#stopObserving = observeQueueDepth(this.#s.queues, async (queue) => {
      const page = await this.#s.store.listFlows({ status: 'pending', queue, limit: 1000 });
      return page.flows.length;
    });
    this.#listen();
    this.#claim();
    this.#presence?.start();
    this.#schedules?.start();
    return this;
  }

  /**
   * Stops claiming and lets in-flight runs finish within the timeout (then releases the leases
   * of what still runs, as `stop` does), but stays in the worker registry, heartbeating, and
   * keeps firing schedules. A flow a create hands this worker while it is paused (stores with
   * hand-off) goes back at once. `resume()` claims again. Idempotent.
   */
  async pause(options: StopOptions = {}): Promise<void> {
    if (!this.#started || this.#paused) return this.#pausing;
    this.#paused = true;
    // The registry says so at once (the dashboard, `ergon workers`), not at the next heartbeat.
    void this.#presence?.beat();
    this.#pausing = this.#halt(options).then(() => this.#unpark());
    try {
      await this.#pausing;
    } finally {
      this.#pausing = undefined;
    }
  }

  /** Claims again after `pause()` (once the pause is over, when it is in progress). Idempotent. */
  resume(): this {
    if (!this.#paused) return this;
    this.#paused = false;
    void this.#presence?.beat();
    const claim = () => {
      if (this.#started && !this.#stopping && !this.#paused && !this.#loop) this.#claim();
    };
    if (this.#pausing) void this.#pausing.then(claim, claim);
    else claim();
    return this;
  }

  /**
   * Stops claiming, lets in-flight runs finish within the timeout, then
   * releases the leases of what is still running so another worker resumes
   * it at once. Idempotent.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (!this.#started || this.#stopping) return;
    this.#stopping = true;
    this.#stopObserving();
    const schedulesStopped = this.#schedules?.stop();
    await this.#pausing?.catch(() => {});
    await this.#halt(options);
    // A pass held up by a store that hangs must not hang shutdown: it ends on its own.
    await Promise.race([schedulesStopped, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    await this.#presence?.stop();
    // Leaving the registry unparked it; without a registry entry the worker unparks itself. Until
    // then a flow handed to it is given back at once (its listener stays until here).
    const { store, clock } = this.#s;
    if (!this.#presence && store.capabilities.handOff === true) {
      await store.removeWorker({ workerId: this.id, now: clock.now(), expireLeases: false }).catch(() => {});
    }
    this.#unsubscribe();
    this.#started = false;
    this.#paused = false;
    this.#stopping = false;
  }

  /** Starts the claim loop. */
  #claim(): void {
    const claiming = new AbortController();
    this.#claiming = claiming;
    this.#loop = this.#run(claiming.signal).catch((error) => {
      this.#unsubscribe();
      this.#s.logger.error('worker loop crashed', { error: toError(error).message });
    });
  }

  /**
   * Ends the claim loop and waits for the runs in flight, at most `timeout`: then the runs still
   * going are abandoned and their leases released (waiting at most 1 s more).
   */
  async #halt(options: StopOptions): Promise<void> {
    this.#claiming?.abort();
    this.#idle.wake();
    await drain({
      loop: this.#loop ?? Promise.resolve(),
      runs: this.#runs,
      housekeeping: this.#housekeeping,
      timeoutMs: toMillis(options.timeout ?? '10s', 'stop timeout'),
    });
    this.#loop = undefined;
  }

  /** A paused worker's last claim may have parked it: one claim more unparks it (`unpark`). */
  async #unpark(): Promise<void> {
    if (this.#runs.size > 0) return;
    const { store, clock, logger, queues, leaseMs } = this.#s;
    await unpark({
      store,
      clock,
      logger,
      workerId: this.id,
      types: [...this.#s.flows.keys()],
      queues,
      leaseMs,
    });
  }

  /** Hears the store's events from `start()` to the end of `stop()`. */
  #listen(): void {
    const { store, queues } = this.#s;
    const idle = this.#idle;
    this.#unsubscribe =
      store.subscribe?.((event) => {
        if (event.type === 'ready') {
          if (queues.includes(event.queue)) idle.wake();
        } else if (event.type === 'finished') {
          // A flow that stops may free a queue or key slot the held-back flows wait for.
          if (idle.blocked) idle.wake();
        } else if (event.type === 'cancel-requested') {
          // The holder learns of a cancel at once rather than at its next heartbeat.
          this.#runs.cancel(event.flowId);
        } else if (event.type === 'handed' && event.claimed && event.workerId === this.id) {
          this.#handed(event.claimed);
        }
      }) ?? (() => {});
  }

  async #run(stopping: AbortSignal): Promise<void> {
    const { store, clock, logger, queues, concurrency, leaseMs, maxIdleMs } = this.#s;
    const types = [...this.#s.flows.keys()];
    const idle = this.#idle;
    // Parked by its claims, an idle worker is handed new flows by their creates (`handed` events).
    const park = store.capabilities.handOff === true;
    const events = store.capabilities.events;
    let pollMs = MIN_POLL_MS;
    while (!stopping.aborted) {
      // While runs are in progress, let this turn's other endings free their slots first: one
      // claim then takes them all (on SQLite a flow's writes settle within a turn, and runs
      // that ended one by one would otherwise be refilled by a claim each).
      if (this.#runs.size > 0 && this.#runs.size < concurrency) await yieldTurn();
      // Slots a finish's claim asked for (`FinishRequest.next`) are not free until it is answered.
      const free = this.#runs.free;
      let claimed: ClaimedFlow[] = [];
      let failed = false;
      if (free > 0) {
        this.#runs.reserve(free);
        try {
          const sentAt = performance.now();
          claimed = await store.claim({
            workerId: this.id,
            types,
            queues,
            limit: free,
            leaseMs,
            now: clock.now(),
            park,
          });
          // A claim answered after its lease ran out (a reply held back by a
          // reconnect) may already belong to someone else: let it go.
          if (claimed.length > 0 && performance.now() - sentAt >= leaseMs) {
            logger.warn('claim answered after its lease expired; leaving the flows to others', {
              count: claimed.length,
            });
            claimed = [];
          }
        } catch (error) {
          failed = true;
          logger.warn('claim failed; retrying', { error: toError(error).message });
        }
        this.#runs.unreserve(free, claimed.length);
        this.#runs.spawnAll(claimed);
        if (claimed.length > 0) {
          pollMs = MIN_POLL_MS;
          idle.claimed();
          if (claimed.length === free) continue;
        }
      }
      this.#housekeeping.kick();
      // Polls back off from a few ms after a failed claim, or after an empty one on a store
      // without events; with events, an idle worker waits for one (or the next due time).
      const sleepMs = free > 0 && claimed.length === 0 && (failed || !events) ? pollMs : maxIdleMs;
      await idle.sleep(stopping, sleepMs, types, this.#runs.free > 0);
      pollMs = Math.min(pollMs * 2, maxIdleMs);
    }
  }

  /**
   * Runs a flow a create claimed for this worker while it was parked. One that finds no slot (a
   * claim of its own filled them meanwhile), a worker that is not claiming (stopping or paused),
   * or a type or queue it does not serve (parked under its id by an earlier worker with other
   * flows) goes back at once.
   */
  #handed(claimed: ClaimedFlow): void {
    const { store, clock, concurrency, flows, queues } = this.#s;
    const { flow } = claimed;
    const lease = { flowId: flow.id, token: claimed.token };
    const serves = flows.has(flow.type) && queues.includes(flow.queue);
    if (
      !serves ||
      this.#claiming?.signal.aborted !== false ||
      this.#runs.size >= concurrency ||
      this.#runs.has(flow.id)
    ) {
      store.releaseLease({ ...lease, now: clock.now() }).catch(() => {});
      return;
    }
    // Its run renews the short hand-off lease by half its time left (`runner.ts`).
    this.#runs.spawn(claimed);
  }
}

/** Resumes after the I/O callbacks and microtasks of the current event-loop turn. */
function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
