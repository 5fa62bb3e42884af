// The set-up the CLI's worker-backed suites share: a temporary SQLite store
// served by a real `ergon worker`, made before the suite's tests and removed
// after, and the CLI pointed at it.
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type CliRun, ergon, type RunningWorker, startWorker, tempDir } from './cli.js';

/** A suite's store and its worker. Read `store` and `worker` inside tests and hooks, not before. */
export interface WorkerStore {
  /** The `--store` value (`sqlite:<file>`), set by the suite's `beforeAll`. */
  readonly store: string;
  /** The worker serving it, once started. */
  readonly worker: RunningWorker | undefined;
  /** Runs `ergon --store <store> ...args`. */
  cli(...args: string[]): Promise<CliRun>;
}

/**
 * Registers the suite's hooks: before its tests, a temporary directory and a worker started on a
 * SQLite store in it with `workerArgs` (the worker creates the store); after them, the worker
 * killed with SIGKILL unless it has exited already, and the directory removed. Call it at the top level of a test file, before
 * hooks that use the store.
 */
export function useWorkerStore(workerArgs: readonly string[]): WorkerStore {
  let store = '';
  let worker: RunningWorker | undefined;
  let remove = () => {};
  beforeAll(async () => {
    const tmp = tempDir();
    remove = tmp.remove;
    store = `sqlite:${join(tmp.dir, 'ergon.db')}`;
    worker = await startWorker(store, workerArgs);
  });
  afterAll(async () => {
    // A suite may have stopped it itself (a graceful stop under test).
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
      await worker.stop('SIGKILL');
    }
    remove();
  });
  return {
    get store() {
      return store;
    },
    get worker() {
      return worker;
    },
    cli: (...args: string[]) => ergon(['--store', store, ...args]),
  };
}
