/**
 * A worker's presence in the store's registry (DESIGN §2.6, worker liveness):
 * a heartbeat about every 500 ms, apart from flow leases. Each heartbeat also
 * declares dead the workers whose own heartbeat lapsed (default 2 s), which
 * expires their leases at once; and a worker on this host whose process is
 * gone is declared dead without waiting for the lapse.
 *
 * @module
 */
import { hostname } from 'node:os';
import type { Clock, Logger, RuntimeExecutionLog, WorkerInfo, WorkerRecord } from '@ergon/core';
import { toError } from '@ergon/core';

/** What {@link Presence} needs. */
export interface PresenceOptions {
  /** The store holding the registry. */
  readonly store: RuntimeExecutionLog;
  /** Time source of heartbeats. */
  readonly clock: Clock;
  /** Where heartbeat failures are logged. */
  readonly logger: Logger;
  /** The registration, refreshed on every heartbeat (`stats` read each time). */
  readonly info: () => WorkerInfo;
  /** Interval between heartbeats, in ms. */
  readonly heartbeatMs: number;
  /** Silence after which a worker is declared dead, in ms. */
  readonly lapseMs: number;
  /** Called when a heartbeat declared workers dead (their flows are claimable now). */
  readonly onReaped: (workerIds: readonly string[]) => void;
}

/** This host's name, as workers register it. */
export const HOST = hostname();

/**
 * Heartbeats one worker (a flow worker or a task runner) into the store's
 * registry until stopped. `Worker` uses it; a task runner gets one through
 * `runTask(task, { registry })`.
 */
export class Presence {
  readonly #o: PresenceOptions;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;

  constructor(options: PresenceOptions) {
    this.#o = options;
  }

  /** Registers now, then heartbeats every `heartbeatMs`. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.beat(), this.#o.heartbeatMs);
    this.#timer.unref();
    void this.beat();
  }

  /** One heartbeat (skipped while the previous one is still in flight). */
  beat(): Promise<void> {
    this.#beating ??= this.#beat().finally(() => {
      this.#beating = undefined;
    });
    return this.#beating;
  }

  /**
   * Stops heartbeating and leaves the registry (the worker has released its
   * leases), waiting at most `deadlineMs` for a store that does not answer.
   */
  async stop(deadlineMs = 1000): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const { store, clock, info, logger } = this.#o;
    const leave = async () => {
      await this.#beating;
      await store.removeWorker({ workerId: info().id, now: clock.now(), expireLeases: false });
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    try {
      if ((await Promise.race([leave(), late])) === 'late') {
        logger.warn('the store did not answer in time; the registry forgets this worker when its heartbeat lapses');
      }
    } catch (error) {
      logger.warn('could not leave the worker registry', { error: toError(error).message });
    } finally {
      clearTimeout(timer);
    }
  }

  async #beat(): Promise<void> {
    const { store, clock, logger, lapseMs } = this.#o;
    try {
      const { reaped } = await store.heartbeatWorker({ worker: this.#o.info(), now: clock.now(), lapseMs });
      const gone = await this.#goneOnThisHost();
      if (reaped.length + gone.length > 0) {
        logger.warn('workers declared dead; their flows resume here or elsewhere now', {
          lapsed: reaped,
          processGone: gone,
        });
        this.#o.onReaped([...reaped, ...gone]);
      }
    } catch (error) {
      logger.warn('worker heartbeat failed; will retry', { error: toError(error).message });
    }
  }

  /**
   * Workers on this host that missed a heartbeat and whose process no longer
   * exists: removed now, their leases expired. Only a worker already late is
   * checked, so a live one in another PID namespace under the same host name
   * is never touched (and a wrong guess is safe: fencing refuses its writes).
   */
  async #goneOnThisHost(): Promise<string[]> {
    const { store, clock } = this.#o;
    const now = clock.now();
    const self = this.#o.info().id;
    const late = (await store.listWorkers()).filter(
      (w: WorkerRecord) =>
        w.id !== self && w.host === HOST && w.pid !== process.pid && now - w.lastSeenAt > this.#o.heartbeatMs * 1.5,
    );
    const gone: string[] = [];
    for (const worker of late) {
      if (processExists(worker.pid)) continue;
      await store.removeWorker({ workerId: worker.id, now, expireLeases: true });
      gone.push(worker.id);
    }
    return gone;
  }
}

/** True when a process with this pid exists here (signal 0 checks without signalling). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
