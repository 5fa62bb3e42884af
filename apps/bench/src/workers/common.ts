/**
 * What every worker fixture shares: its configuration, IPC, and the progress
 * reports a throughput run adds up.
 *
 * @module
 */
import { wallNow } from '../lib/clock.js';

export const CONFIG_ENV = 'ERGON_BENCH_WORKER';

export function readConfig<T>(): T {
  const text = process.env[CONFIG_ENV];
  if (!text) throw new Error(`${CONFIG_ENV} is not set: this file is started by the bench, not by hand`);
  return JSON.parse(text) as T;
}

export function send(message: { type: string; [field: string]: unknown }): void {
  if (process.connected) process.send?.(message);
}

/**
 * Counts completions (and suspensions); reports `{ type: 'progress', count, lastAt, suspended }`
 * every 20 ms while they change.
 */
export class Progress {
  count = 0;
  lastAt = 0;
  suspended = 0;
  #reported = '';
  readonly #timer: NodeJS.Timeout;

  constructor() {
    this.#timer = setInterval(() => this.report(), 20);
    this.#timer.unref();
  }

  done(n = 1): void {
    this.count += n;
    this.lastAt = wallNow();
  }

  report(): void {
    const key = `${this.count}/${this.suspended}`;
    if (key === this.#reported) return;
    this.#reported = key;
    send({ type: 'progress', count: this.count, lastAt: this.lastAt, suspended: this.suspended });
  }

  /** Starts counting again from zero (after a warm-up), and says so at once. */
  reset(): void {
    this.count = 0;
    this.lastAt = 0;
    this.suspended = 0;
    this.report();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.report();
  }
}

/**
 * Sends the last message and exits once it is written: `process.exit()` right
 * after `process.send()` can drop a large message still in the pipe.
 */
export function sendAndExit(message: { type: string; [field: string]: unknown }): void {
  if (!process.connected || !process.send) process.exit(0);
  process.send(message, undefined, undefined, () => process.exit(0));
}

/** Runs `handler` for each message from the parent; exits when the parent goes away. */
export function onMessage(handler: (message: { type: string; [field: string]: unknown }) => void): void {
  process.on('message', (raw) => {
    const message = raw as { type: string; tag?: unknown };
    // Every worker answers a CPU reading, so a benchmark can count from `go` rather than from start-up.
    if (message.type === 'cpu') send({ type: 'cpu', cpuMs: cpuMs(), tag: message.tag });
    else handler(message);
  });
  process.on('disconnect', () => process.exit(0));
}

/** CPU time used by this process so far, in ms. */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
