// Each task kind in each concurrency model: the lifecycle order and how the
// transaction is settled.
import { ErrorCode, RetryPolicy, type Transaction } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import {
  ConsumerPolicy,
  consumer,
  hybrid,
  ProducerPolicy,
  producer,
  runTask,
  threadWork,
  type TransactionOutcome,
} from '../src/index.js';
import { type Event, MemoryConnector } from './support/memory-connector.js';

const WORK = new URL('./fixtures/work.mjs', import.meta.url);
const quick = new RetryPolicy({ maxAttempts: 1 });
const policy = new ConsumerPolicy({
  mode: 'batch',
  retry: { process: quick, success: quick, exception: quick },
});
const run = { handleSignals: false } as const;

interface N {
  n: number;
  fail?: boolean;
}

function consumerOf(model: 'async' | 'threaded', events: Event[], input: MemoryConnector<N>) {
  const process = async (tx: Transaction<N>) => {
    events.push(['process', tx.id]);
    if (tx.payload.fail) throw new RangeError(`cannot double ${tx.payload.n}`);
    return { doubled: tx.payload.n * 2 };
  };
  return consumer({
    name: `consumer-${model}`,
    connectors: { input },
    policies: { consumer: policy },
    processTransaction:
      model === 'async' ? process : threadWork<Transaction<N>, { doubled: number }>(WORK, 'double'),
    handleSuccess: (tx, result) => {
      events.push(['success', tx.id]);
      expect(result.doubled).toBe(tx.payload.n * 2);
    },
    handleException: (tx, error) => {
      events.push(['exception', tx.id]);
      expect(error).toBeInstanceOf(RangeError);
    },
  });
}

describe.each(['async', 'threaded'] as const)('%s model', (model) => {
  it('consumer: process → success → ack; process fails → exception → dead-letter', async () => {
    const events: Event[] = [];
    const input = new MemoryConnector<N>({ events });
    input.push({ n: 1 }, { n: 2, fail: true });
    const outcomes: TransactionOutcome[] = [];
    const summary = await runTask(consumerOf(model, events, input), {
      ...run,
      onOutcome: (o) => outcomes.push(o),
    });
    expect(summary).toMatchObject({ reason: 'drained', processed: 2, succeeded: 1, failed: 1 });
    const t1 = events.filter(([, id]) => id === 't1').map(([what]) => what);
    const t2 = events.filter(([, id]) => id === 't2').map(([what]) => what);
    // The thread cannot write into this thread's event list: its process call is seen in the outcome.
    expect(t1).toEqual(model === 'async' ? ['process', 'success', 'ack'] : ['success', 'ack']);
    expect(t2).toEqual(
      model === 'async' ? ['process', 'exception', 'dead-letter'] : ['exception', 'dead-letter'],
    );
    const byId = new Map(outcomes.map((o) => [o.transactionId, o]));
    expect(byId.get('t1')).toMatchObject({
      status: 'succeeded',
      stages: ['process', 'success'],
      settlement: 'ack',
    });
    expect(byId.get('t2')).toMatchObject({
      status: 'failed',
      stages: ['process', 'exception'],
      failedStage: 'process',
      settlement: 'dead-letter',
    });
    expect(byId.get('t2')?.error?.message).toBe('cannot double 2');
    expect(input.acked).toEqual(['t1']);
    expect(input.deadLettered.map((d) => d.id)).toEqual(['t2']);
  });

  it('hybrid: process → dispatch → success → ack; a failed dispatch → exception → nack', async () => {
    const events: Event[] = [];
    const input = new MemoryConnector<N>({ events, name: 'in' });
    const output = new MemoryConnector<unknown>({ events, name: 'out' });
    input.push({ n: 2 }, { n: 1 });
    output.failDispatches = 1; // the first dispatch (of t1's output) fails; no retries
    const task = hybrid({
      name: `hybrid-${model}`,
      connectors: { input, output },
      policies: { consumer: policy.with({ concurrency: 1, retry: { dispatch: quick } }) },
      processTransaction:
        model === 'async'
          ? (tx: Transaction<N>) => Array.from({ length: tx.payload.n }, (_, i) => ({ part: i, of: tx.id }))
          : threadWork<Transaction<N>, { part: number; of: string }[]>(WORK, 'split'),
      handleSuccess: (tx, produced) => {
        events.push(['success', tx.id]);
        expect(produced.map((p) => p.id)).toEqual(produced.map((_, i) => `${tx.id}/${i}`));
      },
      handleException: (tx) => {
        events.push(['exception', tx.id]);
        return 'requeue';
      },
    });
    const outcomes: TransactionOutcome[] = [];
    await runTask(task, { ...run, onOutcome: (o) => outcomes.push(o) });
    expect(outcomes.find((o) => o.transactionId === 't1')).toMatchObject({
      status: 'failed',
      failedStage: 'dispatch',
      stages: ['process', 'dispatch', 'exception'],
      settlement: 'requeue',
    });
    // t2 first, then t1 again after its requeue.
    const t2 = events
      .filter(([, id]) => id === 't2' || id.startsWith('t2/'))
      .map(([what, id]) => `${what}:${id}`);
    expect(t2).toEqual(['dispatch:t2/0', 'success:t2', 'ack:t2']);
    expect(output.dispatched.map((t) => t.payload)).toEqual([
      { part: 0, of: 't2' },
      { part: 0, of: 't1' },
      { part: 1, of: 't1' },
    ]);
    expect(output.dispatched[1]?.id).toBe('t1/0');
  });

  it('producer: prepare → dispatch (batched) → success; prepare fails → exception', async () => {
    const events: Event[] = [];
    const output = new MemoryConnector<{ square: number }>({ events });
    const task = producer({
      name: `producer-${model}`,
      connectors: { output },
      policies: { producer: new ProducerPolicy({ batchSize: 2, retry: { prepare: quick } }) },
      items: () => [1, 2, -3, 4],
      prepareTransaction:
        model === 'async'
          ? (item: number) => {
              if (item < 0) throw new Error(`negative item ${item}`);
              return { square: item * item };
            }
          : threadWork<number, { square: number }>(WORK, 'prepare'),
      handleSuccess: (tx) => void events.push(['success', String(tx.payload.square)]),
      handleException: (item, error) => void events.push(['exception', `${item}:${error.message}`]),
    });
    const outcomes: TransactionOutcome[] = [];
    const summary = await runTask(task, { ...run, onOutcome: (o) => outcomes.push(o) });
    expect(summary).toMatchObject({ reason: 'drained', processed: 4, succeeded: 3, failed: 1 });
    expect(output.dispatched.map((t) => t.payload.square)).toEqual([1, 4, 16]);
    expect(events.map(([what, x]) => `${what}:${x}`)).toEqual([
      `dispatch:${output.dispatched[0]?.id}`,
      `dispatch:${output.dispatched[1]?.id}`,
      'success:1',
      'success:4',
      `dispatch:${output.dispatched[2]?.id}`,
      'exception:-3:negative item -3',
      'success:16',
    ]);
    expect(outcomes[2]).toMatchObject({ status: 'failed', failedStage: 'prepare', transactionId: undefined });
    expect(outcomes[0]).toMatchObject({ status: 'succeeded', stages: ['prepare', 'dispatch', 'success'] });
  });
});

describe('lifecycle details', () => {
  it('a failing success handler fails the transaction; each stage has its own retry budget', async () => {
    const events: Event[] = [];
    const input = new MemoryConnector<N>({ events });
    input.push({ n: 1 });
    let processCalls = 0;
    let successCalls = 0;
    const outcomes: TransactionOutcome[] = [];
    const task = consumer({
      name: 'retries',
      connectors: { input },
      policies: {
        consumer: new ConsumerPolicy({
          mode: 'batch',
          retry: {
            process: new RetryPolicy({ maxAttempts: 3 }),
            success: new RetryPolicy({ maxAttempts: 2 }),
            exception: quick,
          },
        }),
      },
      processTransaction: () => {
        if (++processCalls < 3) throw new Error('flaky');
        return 'ok';
      },
      handleSuccess: () => {
        successCalls++;
        throw new Error('success handler broke');
      },
      handleException: (_tx, error) => void events.push(['exception', error.message]),
    });
    await runTask(task, { ...run, onOutcome: (o) => outcomes.push(o) });
    expect(outcomes[0]).toMatchObject({
      status: 'failed',
      failedStage: 'success',
      attempts: { process: 3, success: 2, exception: 1 },
      settlement: 'dead-letter',
    });
    expect(successCalls).toBe(2);
    expect(events).toEqual([
      ['exception', 'success handler broke'],
      ['dead-letter', 't1'],
    ]);
  });

  it('an async process that fails once is retried, then acked; an ack that fails is reported, not thrown', async () => {
    const input = new MemoryConnector<N>();
    input.push({ n: 1 }, { n: 2 });
    const tries = new Map<string, number>();
    const outcomes: TransactionOutcome[] = [];
    input.ack = async (transaction) => {
      if (transaction.id === 't2') throw new Error('ack refused');
      input.acked.push(transaction.id);
    };
    const task = consumer({
      name: 'flaky-async',
      connectors: { input },
      policies: {
        consumer: new ConsumerPolicy({
          mode: 'batch',
          retry: { process: new RetryPolicy({ maxAttempts: 2, initialDelay: '1ms' }) },
        }),
      },
      processTransaction: async (tx: Transaction<N>) => {
        const n = (tries.get(tx.id) ?? 0) + 1;
        tries.set(tx.id, n);
        if (tx.id === 't1' && n === 1) throw new Error('flaky');
        return tx.payload.n;
      },
    });
    await runTask(task, { ...run, onOutcome: (o) => outcomes.push(o) });
    const byId = new Map(outcomes.map((o) => [o.transactionId, o]));
    expect(byId.get('t1')).toMatchObject({
      status: 'succeeded',
      result: 1,
      attempts: { process: 2 },
      stages: ['process'],
      settlement: 'ack',
    });
    expect(byId.get('t2')).toMatchObject({ status: 'succeeded', result: 2, settlement: 'none' });
    expect(byId.get('t2')?.settleError?.message).toBe('ack refused');
    expect(input.acked).toEqual(['t1']);
  });

  it('a non-retryable error is not retried; onFailure "requeue" and autoAck false are honoured', async () => {
    const input = new MemoryConnector<N>();
    input.push({ n: 1 });
    let calls = 0;
    const outcomes: TransactionOutcome[] = [];
    const task = consumer({
      name: 'no-retry',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ mode: 'batch', limit: 1, onFailure: 'requeue' }) },
      processTransaction: () => {
        calls++;
        throw Object.assign(new Error('bad input'), { isRetryable: () => false });
      },
    });
    await runTask(task, { ...run, onOutcome: (o) => outcomes.push(o) });
    expect(calls).toBe(1);
    expect(outcomes[0]).toMatchObject({ status: 'failed', settlement: 'requeue', attempts: { process: 1 } });
    const manual = new MemoryConnector<N>();
    manual.push({ n: 1 });
    const optOut = consumer({
      name: 'manual-ack',
      connectors: { input: manual },
      autoAck: false,
      policies: { consumer: new ConsumerPolicy({ mode: 'batch' }) },
      processTransaction: (_tx: Transaction<N>) => 1,
      handleSuccess: (tx, _r, ctx) => ctx.connectors.input.ack(tx),
    });
    outcomes.length = 0;
    await runTask(optOut, { ...run, onOutcome: (o) => outcomes.push(o) });
    expect(outcomes[0]?.settlement).toBe('none');
    expect(manual.acked).toEqual(['t1']);
  });

  it('a producer payload the codec refuses fails that item only', async () => {
    const output = new MemoryConnector<unknown>();
    const outcomes: TransactionOutcome[] = [];
    const task = producer({
      name: 'unencodable',
      connectors: { output },
      policies: { producer: new ProducerPolicy({ retry: { prepare: quick } }) },
      items: () => [1, 2],
      prepareTransaction: (n: number) => (n === 1 ? { run: () => n } : { n }),
    });
    const summary = await runTask(task, { ...run, onOutcome: (o) => outcomes.push(o) });
    expect(summary).toMatchObject({ reason: 'drained', succeeded: 1, failed: 1 });
    expect(outcomes[0]?.error).toMatchObject({ code: ErrorCode.CODEC_FUNCTION });
    expect(output.dispatched.map((t) => t.payload)).toEqual([{ n: 2 }]);
  });

  it('threaded errors keep their class name, message and code', async () => {
    const input = new MemoryConnector<N>();
    input.push({ n: 5, fail: true });
    const outcomes: TransactionOutcome[] = [];
    const task = consumer({
      name: 'thread-errors',
      connectors: { input },
      policies: { consumer: policy },
      processTransaction: threadWork<Transaction<N>, unknown>(WORK, 'double'),
    });
    await runTask(task, { ...run, onOutcome: (o) => outcomes.push(o) });
    const error = outcomes[0]?.error as Error & { code?: string };
    expect(error.name).toBe('RangeError');
    expect(error.message).toBe('cannot double 5');
    expect(error.code).toBe('BAD_N');
  });
});
