import { InMemoryExecutionLog, type NormalizedFlowQuery, type PurgeRequest } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { Client, flow, Worker } from '../src/index.js';

/** A store whose chores (the unknown-type check's page, the retention purge) hang until released. */
class SlowChores extends InMemoryExecutionLog {
  chores = 0;
  release: () => void = () => {};
  readonly #held = new Promise<void>((resolve) => {
    this.release = resolve;
  });

  override async listFlows(query: NormalizedFlowQuery) {
    this.chores++;
    await this.#held;
    return super.listFlows(query);
  }

  override async purge(options: PurgeRequest) {
    this.chores++;
    await this.#held;
    return super.purge(options);
  }
}

describe('worker housekeeping', () => {
  const echo = flow('echo', async (ctx, input: number) => ctx.run('echo', () => input));

  it('never holds up claims: flows run while the chores wait on the store, and stop waits for them', async () => {
    const store = new SlowChores();
    const client = new Client({ store });
    const worker = new Worker({
      store,
      flows: [echo],
      maxIdle: '20ms',
      retention: '1h',
      unknownTypeCheck: '20ms',
    }).start();
    try {
      const handles = await Promise.all([1, 2, 3, 4, 5].map((n) => client.schedule(echo, n)));
      const results = await Promise.all(handles.map((h) => h.result()));
      expect(results).toEqual([1, 2, 3, 4, 5]);
      // The chores started and are still waiting: the flows above ran beside them.
      expect(store.chores).toBeGreaterThan(0);
      let stopped = false;
      const stopping = worker.stop({ timeout: '5s' }).then(() => {
        stopped = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(stopped).toBe(false);
      store.release();
      await stopping;
      expect(stopped).toBe(true);
    } finally {
      store.release();
      await worker.stop();
    }
  });
});
