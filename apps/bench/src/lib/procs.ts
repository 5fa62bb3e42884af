/**
 * Worker processes: forked from compiled fixtures in `dist/workers`, configured
 * through one environment variable, driven and heard through IPC messages.
 *
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { CONFIG_ENV } from '../workers/common.js';
import { wallNow } from './clock.js';

/** A message from a worker process. Every message has a `type`. */
export interface WorkerMessage {
  readonly type: string;
  readonly [field: string]: unknown;
}

export type Fixture = 'ergon-worker' | 'bullmq-worker' | 'pgboss-worker' | 'dbos-worker' | 'bridge-worker';

export class WorkerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly #listeners = new Set<(message: WorkerMessage) => void>();
  #exited = false;
  readonly exitedPromise: Promise<number | null>;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    child.on('message', (message) => {
      for (const listener of [...this.#listeners]) listener(message as WorkerMessage);
    });
    this.exitedPromise = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.#exited = true;
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Forks the fixture and waits for its `ready` message. */
  static async start(
    fixture: Fixture,
    config: object,
    name: string,
    timeoutMs = 30_000,
  ): Promise<WorkerProcess> {
    const script = new URL(`../workers/${fixture}.js`, import.meta.url);
    // ERGON_BENCH_PROFILE=DIR writes a V8 CPU profile of every worker process into DIR.
    const profile = process.env.ERGON_BENCH_PROFILE;
    const child = fork(script, [], {
      env: { ...process.env, [CONFIG_ENV]: JSON.stringify(config) },
      execArgv: profile
        ? ['--cpu-prof', '--cpu-prof-dir', profile, '--cpu-prof-name', `${name}.${Date.now()}.cpuprofile`]
        : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new WorkerProcess(name, child);
    const ready = worker.waitFor((m) => m.type === 'ready', timeoutMs, 'ready');
    const early = worker.exitedPromise.then((code) => {
      throw new Error(`worker ${name} (${fixture}) exited with code ${code} before it was ready`);
    });
    await Promise.race([ready, early]);
    early.catch(() => {});
    return worker;
  }

  on(listener: (message: WorkerMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  send(message: WorkerMessage): void {
    if (!this.#exited && this.child.connected) this.child.send(message);
  }

  /** The first message that satisfies `match`, or an error after `timeoutMs` or on exit. */
  waitFor(match: (m: WorkerMessage) => boolean, timeoutMs: number, what: string): Promise<WorkerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`worker ${this.name}: no '${what}' within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on((m) => {
        if (!match(m)) return;
        clearTimeout(timer);
        off();
        resolve(m);
      });
      this.exitedPromise.then((code) => {
        clearTimeout(timer);
        off();
        reject(new Error(`worker ${this.name} exited (code ${code}) while waiting for '${what}'`));
      });
    });
  }

  /** Asks the worker to stop and waits for its `final` report; kills it if it takes too long. */
  async stop(timeoutMs = 10_000): Promise<WorkerMessage | undefined> {
    if (this.#exited) return undefined;
    const final = this.waitFor((m) => m.type === 'final', timeoutMs, 'final').catch(() => undefined);
    this.send({ type: 'stop' });
    const report = await final;
    await Promise.race([this.exitedPromise, new Promise((resolve) => setTimeout(resolve, 2000))]);
    this.kill();
    return report;
  }

  kill(): void {
    if (!this.#exited) this.child.kill('SIGKILL');
  }
}

/** Starts `count` workers of one fixture; on failure kills the ones already started. */
export async function startWorkers(
  fixture: Fixture,
  count: number,
  config: (index: number) => object,
  name: string,
): Promise<WorkerProcess[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => WorkerProcess.start(fixture, config(i), `${name}-${i}`)),
  );
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    for (const w of workers) w.kill();
    throw (failed as PromiseRejectedResult).reason;
  }
  return workers;
}

/**
 * Progress of a run: workers send `{ type: 'progress', count, lastAt, suspended }`
 * (completions so far, the wall time of the last one, suspensions so far).
 * Resolves once `field` adds up to `total`, with the latest completion time
 * (for `count`) or the time it was noticed (for `suspended`).
 */
export function completion(
  workers: readonly WorkerProcess[],
  total: number,
  timeoutMs: number,
  field: 'count' | 'suspended' = 'count',
): Promise<number> {
  const counts = new Map<string, number>();
  const last = new Map<string, number>();
  const sum = () => [...counts.values()].reduce((a, b) => a + b, 0);
  return new Promise((resolve, reject) => {
    const offs: (() => void)[] = [];
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const off of offs) off();
      if (error) reject(error);
      else resolve(field === 'count' ? Math.max(...last.values()) : wallNow());
    };
    const timer = setTimeout(() => {
      finish(
        new Error(
          `only ${sum()} of ${total} ${field === 'count' ? 'finished' : 'suspended'} within ${Math.round(timeoutMs / 1000)} s`,
        ),
      );
    }, timeoutMs);
    for (const w of workers) {
      offs.push(
        w.on((m) => {
          if (m.type !== 'progress') return;
          counts.set(w.name, Number(m[field]));
          last.set(w.name, Number(m.lastAt));
          if (sum() >= total) finish();
        }),
      );
      w.exitedPromise.then((code) => finish(new Error(`worker ${w.name} exited (code ${code}) mid-run`)));
    }
  });
}

/** The first message from any of `workers` that satisfies `match`, with the worker that sent it. */
export function firstMessage(
  workers: readonly WorkerProcess[],
  match: (m: WorkerMessage) => boolean,
  timeoutMs: number,
  what: string,
): Promise<{ worker: WorkerProcess; message: WorkerMessage }> {
  return new Promise((resolve, reject) => {
    const offs: (() => void)[] = [];
    const timer = setTimeout(() => {
      for (const off of offs) off();
      reject(new Error(`no '${what}' from any worker within ${timeoutMs} ms`));
    }, timeoutMs);
    for (const worker of workers) {
      offs.push(
        worker.on((message) => {
          if (!match(message)) return;
          clearTimeout(timer);
          for (const off of offs) off();
          resolve({ worker, message });
        }),
      );
    }
  });
}
