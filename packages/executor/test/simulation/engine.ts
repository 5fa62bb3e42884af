/**
 * The simulation's engine: `@ergon/testing/simulation`'s executor adapter over
 * this package's source, and the stores seeds run on.
 */
import { type ExecutionLog, InMemoryExecutionLog, runtimeStore } from '@ergon/core';
import { Graph } from '@ergon/graph';
import { executorEngine, type SimStore } from '@ergon/testing/simulation';
import { Client, Executor, flow, Worker } from '../../src/index.js';
import { createTestStore, STORE_KIND } from '../stores.js';

/** The executor under simulation. */
export const engine = executorEngine({ flow, Worker, Client, Executor, Graph });

/** Real milliseconds without store activity before a seed's system counts as quiet (see `runSimulation`). */
export const QUIET_MS = Number(process.env.ERGON_SIM_QUIET_MS ?? 0);

let shared: { store: ExecutionLog; dispose: () => Promise<void> } | undefined;

/**
 * The store of one seed. Memory: a fresh one. SQLite and Redis: one store for
 * every seed of the file (a new file or connection per seed would cost more
 * than the seed; seeds keep to their own ids and queue), emptied of finished
 * flows after each seed. Close it with {@link closeSharedStore}.
 */
export async function createStore(): Promise<SimStore> {
  if (STORE_KIND === 'memory') return { store: new InMemoryExecutionLog(), dispose: async () => {} };
  shared ??= await createTestStore();
  const { store } = shared;
  return {
    store,
    dispose: async () => {
      const runtime = runtimeStore(store);
      while ((await runtime.purge({ finishedBefore: Date.UTC(2100, 0, 1), limit: 1000 })) === 1000) {}
    },
  };
}

/** Closes and removes the store shared by the seeds of a file. */
export async function closeSharedStore(): Promise<void> {
  await shared?.dispose();
  shared = undefined;
}
