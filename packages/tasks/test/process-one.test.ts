// processOne: one transaction (or producer item) through the lifecycle, for
// the CLI and for tests.
import { RetryPolicy, type Transaction } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { ConsumerPolicy, consumer, hybrid, processOne, producer, threadWork } from '../src/index.js';
import { MemoryConnector } from './support/memory-connector.js';

const WORK = new URL('./fixtures/work.mjs', import.meta.url);

describe('processOne', () => {
  it('runs a payload through a consumer and reports the outcome without settling', async () => {
    const input = new MemoryConnector<{ n: number }>();
    const calls: string[] = [];
    const task = consumer({
      name: 'one',
      connectors: { input },
      processTransaction: (tx: Transaction<{ n: number }>) => tx.payload.n * 3,
      handleSuccess: (tx, result) => void calls.push(`${tx.id}=${result}`),
    });
    const outcome = await processOne(task, { id: 'cli-1', payload: { n: 4 } });
    expect(outcome).toMatchObject({
      transactionId: 'cli-1',
      status: 'succeeded',
      result: 12,
      settlement: 'none',
    });
    expect(calls).toEqual(['cli-1=12']);
    expect(input.acked).toEqual([]);
  });

  it('settles through the source connector when asked', async () => {
    const input = new MemoryConnector<number>();
    const [tx] = input.push(1);
    const task = consumer({
      name: 'settling',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ retry: { process: RetryPolicy.NONE } }) },
      processTransaction: () => {
        throw new Error('nope');
      },
    });
    const outcome = await processOne(task, tx!, { settle: true });
    expect(outcome.settlement).toBe('dead-letter');
    expect(input.deadLettered.map((d) => d.id)).toEqual([tx!.id]);
  });

  it('works for threaded consumers, hybrids and producers', async () => {
    const input = new MemoryConnector<{ n: number }>();
    const output = new MemoryConnector<unknown>();
    const threaded = consumer({
      name: 'threaded-one',
      connectors: { input },
      processTransaction: threadWork<Transaction<{ n: number }>, { doubled: number }>(WORK, 'double'),
    });
    expect((await processOne(threaded, { payload: { n: 21 } })).result).toMatchObject({ doubled: 42 });
    const copy = hybrid({
      name: 'hybrid-one',
      connectors: { input, output },
      processTransaction: (tx: Transaction<{ n: number }>) => [tx.payload.n, tx.payload.n + 1],
    });
    const produced = await processOne(copy, { id: 'h', payload: { n: 1 } });
    expect(output.dispatched.map((t) => [t.id, t.payload])).toEqual([
      ['h/0', 1],
      ['h/1', 2],
    ]);
    expect(produced.status).toBe('succeeded');
    const make = producer({
      name: 'producer-one',
      connectors: { output },
      items: () => [],
      prepareTransaction: (n: number) => ({ n }),
    });
    const made = await processOne(make, 7);
    expect(made).toMatchObject({ status: 'succeeded', stages: ['prepare', 'dispatch'] });
    expect(output.dispatched.at(-1)?.payload).toEqual({ n: 7 });
  });
});
