// A task run in the store's worker registry: under its task name, with its counts; gone when it ends.
import { InMemoryExecutionLog, NonRetryableError } from '@ergon/core';
import { Client } from '@ergon/executor';
import { describe, expect, it } from 'vitest';
import { ConsumerPolicy, consumer, startTask } from '../src/index.js';
import { MemoryConnector } from './support/memory-connector.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('task runs in the worker registry', () => {
  it('appear under their task name with processed, failed and dead-lettered counts, and leave at the end', async () => {
    const store = new InMemoryExecutionLog();
    const client = new Client({ store });
    const input = new MemoryConnector<number>();
    input.push(1, 2, 3, -1);
    const task = consumer({
      name: 'orders-intake',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ concurrency: 2 }) },
      processTransaction: (tx) => {
        if ((tx.payload as number) < 0) throw new NonRetryableError('negative order');
        return tx.payload;
      },
    });
    const run = startTask(task, { handleSignals: false, registry: { store, heartbeat: '20ms' } });
    let seen: Awaited<ReturnType<Client['workers']>> = [];
    for (let i = 0; i < 200; i++) {
      seen = await client.workers();
      if (seen[0]?.stats.processed === 4) break;
      await sleep(10);
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      kind: 'task',
      name: 'orders-intake',
      pid: process.pid,
      concurrency: 2,
      stats: { processed: 4, succeeded: 3, failed: 1, deadLettered: 1, requeued: 0 },
    });
    await run.stop();
    expect(await client.workers()).toEqual([]);
  });

  it('refuses a registry with a process pool, before anything starts', () => {
    const store = new InMemoryExecutionLog();
    expect(() =>
      startTask({ module: import.meta.url, export: 'none' }, { workers: 2, registry: { store }, handleSignals: false }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
