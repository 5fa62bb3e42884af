/**
 * The worker: claims ready flows atomically under a lease, runs them with a
 * concurrency limit, heartbeats, sleeps until work is likely (store events,
 * the next due time, adaptive polling — never a fixed 1 s poll), and shuts
 * down gracefully, releasing leases so others resume at once.
 *
 * @module
 */
import { type ClaimedFlow, toError, toMillis } from '@ergon/core';
import { tickKey } from './flow-control.js';
import { Housekeeping } from './internal/housekeeping.js';
import { IdleSleep } from './internal/idle.js';
import { HOST, Presence } from './internal/presence.js';
import { observeQueueDepth } from './internal/telemetry.js';
import { WorkerRuns } from './internal/worker-runs.js';
import { type WorkerSettings, workerSettings } from './internal/worker-settings.js';
import { ScheduleRunner } from './schedules/runner.js';
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
  readonly #startedAt = Date.now();
  readonly #runs: WorkerRuns;
  #loop: Promise<void> | undefined;
  #stopping: AbortController | undefined;
  #stopObserving: () => void = () => {};
  /** Ends the store subscription of the claim loop (at the end of `stop`, or when the loop crashes). */
  #unsubscribe: () => void = () => {};

  constructor(options: WorkerOptions) {
    const settings = workerSettings(options);
    const { store, clock, logger, flows, codec } = settings;
    this.id = settings.workerId;
    this.#s = settings;
    this.#idle = new IdleSleep(settings);
    this.#runs = new WorkerRuns(settings, { wake: () => this.#idle.wake(), outcome: options.onOutcome });
    this.#housekeeping = new Housekeeping({
      store,
      clock,
      logger,
      queues: settings.queues,
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
            clock,
            logger,
            types: [...flows.keys()],
            checkMs: toMillis(options.schedules?.check ?? '5s', 'schedules check'),
            control: (type, input) => tickKey(flows.get(type), codec, input),
          });
    const liveness = options.liveness ?? {};
    this.#presence =
      liveness === false
        ? undefined
        : new Presence({
            store,
            clock,
            logger,
            heartbeatMs: toMillis(liveness.heartbeat ?? '500ms', 'liveness heartbeat'),
            lapseMs: toMillis(liveness.lapse ?? '2s', 'liveness lapse'),
            info: () => ({
              id: this.id,
              kind: 'worker',
              name: options.name,
              host: HOST,
              pid: process.pid,
              queues: settings.queues,
              types: [...flows.keys()],
              concurrency: settings.concurrency,
              startedAt: this.#startedAt,
              stats: JSON.stringify({
                active: this.#runs.size,
                flowsRun: this.#runs.flowsRun,
                failed: this.#runs.flowsFailed,
                // Which recorded versions it serves, so a refusal can say whether any live worker does.
                ...(settings.versions.size > 0 ? { versions: Object.fromEntries(settings.versions) } : {}),
              }),
            }),
            onReaped: () => this.#idle.wake(),
          });
  }

  /** Flows running now. */
  get active(): number {
    return this.#runs.size;
  }

  /** True between `start()` and the end of `stop()`. */
  get running(): boolean {
    return this.#loop !== undefined;
  }

  /** Starts claiming. Idempotent. */
  start(): this {
    if (this.#loop) return this;
    this.#stopping = new AbortController();
    this.#stopObserving = observeQueueDepth(this.#s.queues, async (queue) => {
      const page = await this.#s.store.listFlows({ status: 'pending', queue, limit: 1000 });
      return page.flows.length;
    });
    this.#loop = this.#run(this.#stopping.signal).catch((error) => {
      this.#s.logger.error('worker loop crashed', { error: toError(error).message });
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
    this.#idle.wake();
    const schedulesStopped = this.#schedules?.stop();
    // The deadline covers the claim loop too: a store that hangs must not hang shutdown.
    const loop = this.#loop;
    const settled = () => Promise.all([loop, this.#runs.settled(), this.#housekeeping.settled()]);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const first = await Promise.race([loop.then(settled), deadline]);
    if (first === 'timeout') {
      this.#runs.stopAll();
      await Promise.race([settled(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
    clearTimeout(timer);
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
    this.#loop = undefined;
  }

  async #run(stopping: AbortSignal): Promise<void> {
    const { store, clock, logger, queues, concurrency, leaseMs, maxIdleMs } = this.#s;
    const types = [...this.#s.flows.keys()];
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
          this.#handed(event.claimed, stopping);
        }
      }) ?? (() => {});
    // Parked by its claims, an idle worker is handed new flows by their creates (`handed` events).
    const park = store.capabilities.handOff === true;
    const events = store.capabilities.events;
    let pollMs = MIN_POLL_MS;
    try {
      while (!stopping.aborted) {
        // While runs are in progress, let this turn's other endings free their slots first: one
        // claim then takes them all (on SQLite a flow's writes settle within a turn, and runs
        // that ended one by one would otherwise be refilled by a claim each).
        if (this.#runs.size > 0 && this.#runs.size < concurrency) await yieldTurn();
        const free = concurrency - this.#runs.size;
        let claimed: ClaimedFlow[] = [];
        let failed = false;
        if (free > 0) {
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
        await idle.sleep(stopping, sleepMs, types, this.#runs.size < concurrency);
        pollMs = Math.min(pollMs * 2, maxIdleMs);
      }
    } catch (error) {
      this.#unsubscribe();
      throw error;
    }
  }

  /**
   * Runs a flow a create claimed for this worker while it was parked. One that finds no slot (a
   * claim of its own filled them meanwhile), a stopping worker, or a type or queue it does not
   * serve (parked under its id by an earlier worker with other flows) goes back at once.
   */
  #handed(claimed: ClaimedFlow, stopping: AbortSignal): void {
    const { store, clock, concurrency, flows, queues } = this.#s;
    const { flow } = claimed;
    const lease = { flowId: flow.id, token: claimed.token };
    const serves = flows.has(flow.type) && queues.includes(flow.queue);
    if (!serves || stopping.aborted || this.#runs.size >= concurrency || this.#runs.has(flow.id)) {
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
