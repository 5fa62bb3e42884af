// processOne: one transaction (or producer item) through the lifecycle, for
// the CLI and for tests.
import { RetryPolicy, type Transaction } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import {
  ConsumerPolicy,
  consumer,
  findTransaction,
  hybrid,
  processOne,
  producer,
  threadWork,
} from '../src/index.js';
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

  it('processes a transaction found by id in the source again, without claiming or settling it', async () => {
    const input = new MemoryConnector<{ n: number }>();
    const [first] = input.push({ n: 5 }, { n: 6 });
    await input.fetchTransactions({ limit: 2 });
    await input.ack(first!);
    const task = consumer({
      name: 'by-id',
      connectors: { input },
      processTransaction: (tx: Transaction<{ n: number }>) => tx.payload.n * 10,
    });
    const found = await findTransaction(task, 't1');
    expect(found).toBe(first);
    expect(await processOne(task, found!)).toMatchObject({
      transactionId: 't1',
      result: 50,
      settlement: 'none',
    });
    expect(await findTransaction(task, 'nope')).toBeUndefined();
    expect(input.acked).toEqual(['t1']);
    expect(input.requeued).toEqual([]);
  });

  it('refuses lookups a task cannot make, naming what to do instead', async () => {
    const output = new MemoryConnector<unknown>();
    const plain = { name: 'plain', fetchTransactions: async () => [] };
    const task = consumer({
      name: 'no-lookup',
      connectors: { input: plain, output },
      processTransaction: () => 1,
    });
    await expect(findTransaction(task, 't1')).rejects.toThrow(
      /cannot look transactions up by id; give the payload/,
    );
    await expect(findTransaction(task, 't1', { connector: 'missing' })).rejects.toThrow(
      /has no connector 'missing' \(it has 'input', 'output'\)/,
    );
    expect(await findTransaction(task, 't9', { connector: 'output' })).toBeUndefined();
    const make = producer({
      name: 'maker',
      connectors: { output },
      items: () => [1],
      prepareTransaction: (n: number) => n,
    });
    await expect(findTransaction(make, 't1')).rejects.toSatisfy(
      (e) =>
        (e as { code?: string }).code === 'INVALID_ARGUMENT' &&
        /a producer has no source/.test((e as Error).message),
    );
  });
});
