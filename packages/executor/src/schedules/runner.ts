/**
 * A worker's schedule loop: fires the due ticks of the schedules whose flow
 * types the worker runs, then sleeps until the earliest next tick. It also
 * wakes when a flow a buffered tick waits for finishes (store events), when a
 * schedule changes in this process, and at the latest every `checkMs` (to see
 * schedules created or changed by other processes). Never a busy loop.
 *
 * @module
 */
import { type Clock, type Logger, type RuntimeExecutionLog, type ScheduleRecord, toError } from '@ergon/core';
import { type FiringDeps, fireSchedule } from './firing.js';
import { onSchedulesChanged } from './notify.js';

/** What a {@link ScheduleRunner} needs. */
export interface ScheduleRunnerOptions {
  readonly store: RuntimeExecutionLog;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The flow types whose schedules this worker fires. */
  readonly types: readonly string[];
  /** Longest sleep between looks at the schedules. */
  readonly checkMs: number;
  /** How late a tick may start and still be on time (default `SCHEDULE_GRACE_MS`). */
  readonly graceMs?: number | undefined;
  /** A tick's flow-control key and limit, from its flow definition. */
  readonly control?: FiringDeps['control'];
}

const PAGE = 500;

/** Fires schedules until stopped. */
export class ScheduleRunner {
  readonly #o: ScheduleRunnerOptions;
  #loop: Promise<void> | undefined;
  #stop: AbortController | undefined;
  #wake: (() => void) | undefined;
  #pendingWake = false;
  /** Flows that buffered ticks wait for: their `finished` event wakes the loop. */
  #waitedFlows = new Set<string>();
  /** Ends the store event subscription, while there is one ({@link ScheduleRunner.#listen}). */
  #unlisten: (() => void) | undefined;

  constructor(options: ScheduleRunnerOptions) {
    this.#o = options;
  }

  /** Starts the loop, unless the store keeps no schedules. Idempotent. */
  start(): void {
    if (this.#loop || !this.#o.store.schedules.supported) return;
    const stop = new AbortController();
    this.#stop = stop;
    this.#loop = this.#run(stop.signal).catch((error) => {
      this.#o.logger.error('schedule loop crashed', { error: toError(error).message });
    });
  }

  /** Stops the loop and waits for the pass in progress. Idempotent. */
  async stop(): Promise<void> {
    this.#stop?.abort();
    this.#notify();
    await this.#loop;
    this.#loop = undefined;
  }

  /** One pass over the schedules at the clock's now; returns when to look again (ms). */
  async pass(): Promise<number> {
    const { store, clock, logger, types, checkMs } = this.#o;
    const now = clock.now();
    let wakeAt = now + checkMs;
    const waited = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await store.schedules.listSchedules({ types, after, limit: PAGE });
      for (const listed of page) {
        if (this.#stop?.signal.aborted) return 0;
        let schedule: ScheduleRecord | undefined = listed;
        try {
          const deps = { store, clock, logger, graceMs: this.#o.graceMs, control: this.#o.control };
          const fired = await fireSchedule(deps, listed, now);
          schedule = fired.schedule;
          if (fired.more) wakeAt = now;
        } catch (error) {
          logger.warn('schedule tick failed; retrying at the next look', {
            scheduleId: listed.id,
            error: toError(error).message,
          });
        }
        if (!schedule || schedule.paused) continue;
        if (schedule.nextAt !== undefined) wakeAt = Math.min(wakeAt, schedule.nextAt);
        if (schedule.bufferedAt !== undefined && schedule.lastFlowId) waited.add(schedule.lastFlowId);
      }
      const last = page[page.length - 1];
      if (page.length < PAGE || !last) break;
      after = last.id;
    }
    this.#waitedFlows = waited;
    if (this.#loop) this.#listen();
    return wakeAt;
  }

  /**
   * Store events are listened to only while a buffered tick waits for a flow to finish: every
   * flow's end is an event, and a worker with no such tick has nothing to hear in them. Set in
   * the same turn as the flows waited for.
   */
  #listen(): void {
    if (this.#waitedFlows.size > 0) {
      this.#unlisten ??= this.#o.store.subscribe?.((event) => {
        if (event.type === 'finished' && this.#waitedFlows.has(event.flowId)) this.#notify();
      });
    } else if (this.#unlisten) {
      this.#unlisten();
      this.#unlisten = undefined;
    }
  }

  async #run(stopping: AbortSignal): Promise<void> {
    const { store, clock, logger, checkMs } = this.#o;
    const unwatch = onSchedulesChanged(store, () => this.#notify());
    try {
      while (!stopping.aborted) {
        let wakeAt = clock.now() + checkMs;
        try {
          wakeAt = await this.pass();
        } catch (error) {
          logger.warn('listing schedules failed; retrying', { error: toError(error).message });
        }
        // A buffered tick without store events: look again soon for its flow's end.
        if (this.#waitedFlows.size > 0 && !store.subscribe) wakeAt = Math.min(wakeAt, clock.now() + 1000);
        await this.#sleep(stopping, Math.max(0, wakeAt - clock.now()));
      }
    } finally {
      this.#unlisten?.();
      this.#unlisten = undefined;
      unwatch();
    }
  }

  async #sleep(stopping: AbortSignal, ms: number): Promise<void> {
    if (this.#pendingWake || stopping.aborted) {
      this.#pendingWake = false;
      return;
    }
    const wake = new AbortController();
    this.#wake = () => wake.abort();
    try {
      await Promise.race([
        this.#o.clock.sleep(ms, wake.signal).catch(() => {}),
        // The fake clock never advances by itself; a real-time cap keeps tests live.
        new Promise<void>((resolve) => setTimeout(resolve, Math.max(ms, this.#o.checkMs)).unref()),
      ]);
    } finally {
      this.#wake = undefined;
      wake.abort();
      this.#pendingWake = false;
    }
  }

  #notify(): void {
    if (this.#wake) this.#wake();
    else this.#pendingWake = true;
  }
}
