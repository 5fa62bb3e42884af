// The consumer and producer loops: back-off on an empty queue, limits,
// modes, concurrency bounds, fetch failures, and stopping.
import { ErrorCode, hasErrorCode, RetryPolicy } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { ConsumerPolicy, consumer, ProducerPolicy, producer, runTask, startTask } from '../src/index.js';
import { MemoryConnector } from './support/memory-connector.js';

const run = { handleSignals: false } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('consumer loop', () => {
  it('an idle consumer fetches only a handful of times per second (back-off grows to its cap)', async () => {
    const input = new MemoryConnector();
    const task = consumer({ name: 'idle', connectors: { input }, processTransaction: () => 1 });
    const running = startTask(task, run);
    await sleep(1100);
    const summary = await running.stop();
    // Defaults: 100 ms, ×2, capped at 5 s → fetches at 0, 100, 300, 700 ms.
    expect(input.fetches).toBeGreaterThanOrEqual(2);
    expect(input.fetches).toBeLessThanOrEqual(5);
    expect(summary).toMatchObject({ reason: 'stopped', processed: 0, fetches: input.fetches });
    const capped = new ConsumerPolicy({
      emptyQueue: { initialDelay: '10ms', multiplier: 3, maxDelay: '50ms' },
    });
    expect([1, 2, 3, 4, 10].map((n) => capped.emptyQueueDelay(n))).toEqual([10, 30, 50, 50, 50]);
  });

  it('limit: n processes exactly n transactions and leaves the rest', async () => {
    const input = new MemoryConnector<number>();
    input.push(...Array.from({ length: 25 }, (_, i) => i));
    const seen: number[] = [];
    const task = consumer({
      name: 'limited',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ limit: 7, batchSize: 3, concurrency: 2 }) },
      processTransaction: (tx) => seen.push(tx.payload as number),
    });
    const summary = await runTask(task, run);
    expect(summary).toMatchObject({ reason: 'limit', processed: 7, succeeded: 7 });
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(input.queue).toHaveLength(18);
  });

  it('a fetch that returns more than it was asked for has the extra transactions requeued, unprocessed', async () => {
    const input = new MemoryConnector<number>();
    input.push(...Array.from({ length: 10 }, (_, i) => i));
    // Two more than asked for, once.
    const fetch = input.fetchTransactions.bind(input);
    let first = true;
    input.fetchTransactions = (options) => {
      const limit = first ? options.limit + 2 : options.limit;
      first = false;
      return fetch({ ...options, limit });
    };
    const seen: number[] = [];
    const task = consumer({
      name: 'too-many',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ mode: 'batch', batchSize: 3, concurrency: 3, limit: 3 }) },
      processTransaction: (tx) => seen.push(tx.payload as number),
    });
    const summary = await runTask(task, run);
    expect(summary).toMatchObject({ reason: 'limit', processed: 3, succeeded: 3 });
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2]);
    expect(input.requeued).toEqual(['t4', 't5']);
  });

  it('never exceeds its concurrency, streaming or not', async () => {
    for (const streaming of [true, false]) {
      const input = new MemoryConnector<number>();
      input.push(...Array.from({ length: 30 }, (_, i) => i));
      let active = 0;
      let peak = 0;
      const task = consumer({
        name: 'bounded',
        connectors: { input },
        policies: {
          consumer: new ConsumerPolicy({ mode: 'batch', concurrency: 3, batchSize: 5, streaming }),
        },
        processTransaction: async () => {
          peak = Math.max(peak, ++active);
          await sleep(5);
          active--;
        },
      });
      const summary = await runTask(task, run);
      expect(summary.succeeded).toBe(30);
      expect(peak).toBe(3);
      // Not streaming: one fetch per batch of 5 (+ the empty one); streaming: as slots free.
      if (!streaming) expect(summary.fetches).toBe(7);
    }
  });

  it('a fetch that keeps failing ends the run with its error after the fetch retries', async () => {
    const input = new MemoryConnector();
    input.failFetches = 10;
    const task = consumer({
      name: 'broken-source',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ retry: { fetch: new RetryPolicy({ maxAttempts: 3 }) } }) },
      processTransaction: () => 1,
    });
    const summary = await runTask(task, run);
    expect(summary.reason).toBe('failed');
    expect(summary.error?.message).toBe('fetch failed');
    expect(input.fetches).toBe(3);
  });

  it('a graceful stop stops fetching and lets in-flight work finish, then acks it', async () => {
    const input = new MemoryConnector<number>();
    input.push(...Array.from({ length: 10 }, (_, i) => i));
    let started = 0;
    const task = consumer({
      name: 'graceful',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ concurrency: 2 }) },
      processTransaction: () => {
        started++;
        return sleep(100);
      },
    });
    const running = startTask(task, run);
    await until(() => started === 2);
    const summary = await running.stop({ timeout: '2s' });
    expect(summary).toMatchObject({ reason: 'stopped', processed: 2, succeeded: 2, aborted: 0 });
    expect(input.acked).toEqual(['t1', 't2']);
    expect(input.queue).toHaveLength(8);
  });

  it('work still running at the shutdown deadline is abandoned and requeued, never lost', async () => {
    const input = new MemoryConnector<number>();
    input.push(1, 2, 3);
    let running = 0;
    const task = consumer({
      name: 'stubborn',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ concurrency: 2, streaming: false, batchSize: 3 }) },
      processTransaction: () => {
        running++;
        return sleep(5000); // ignores its signal
      },
    });
    const stubborn = startTask(task, run);
    await until(() => running === 2);
    const started = Date.now();
    const summary = await stubborn.stop({ timeout: '100ms' });
    // Given up on at the timeout, not waited out (each would take 5 s).
    expect(Date.now() - started).toBeLessThan(4000);
    expect(summary).toMatchObject({ processed: 3, aborted: 3, succeeded: 0 });
    expect(input.requeued.sort()).toEqual(['t1', 't2', 't3']);
    expect(input.deadLettered).toEqual([]);
  });

  it('a hundred transactions in flight add no listener each to a shared signal; each attempt has a signal of its own that the hard stop fires', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const input = new MemoryConnector<number>();
      input.push(...Array.from({ length: 150 }, (_, i) => i));
      const signals: AbortSignal[] = [];
      const task = consumer({
        name: 'crowded',
        connectors: { input },
        policies: { consumer: new ConsumerPolicy({ concurrency: 100, batchSize: 100 }) },
        processTransaction: (_tx, ctx) => {
          // A spread copy of the context carries the signal too.
          const copy = { ...ctx };
          signals.push(copy.signal);
          return new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        },
      });
      const running = startTask(task, run);
      await until(() => signals.length === 100);
      expect(new Set(signals).size).toBe(100);
      expect(signals.some((signal) => signal.aborted)).toBe(false);
      const summary = await running.stop({ timeout: '50ms' });
      expect(signals.every((signal) => signal.aborted)).toBe(true);
      expect(summary).toMatchObject({ processed: 100, aborted: 100 });
      expect(input.requeued).toHaveLength(100);
      await sleep(10);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('transactions a fetch returns after the stop are requeued, not lost', async () => {
    const input = new MemoryConnector<number>();
    input.push(1, 2);
    let fetching = false;
    const slow = Object.assign(Object.create(input) as MemoryConnector<number>, {
      fetchTransactions: async (options: { limit: number }) => {
        fetching = true;
        await sleep(150); // a transport that does not honour the abort signal
        return input.fetchTransactions(options);
      },
    });
    const running = startTask(
      consumer({ name: 'late', connectors: { input: slow }, processTransaction: () => 1 }),
      run,
    );
    await until(() => fetching);
    const summary = await running.stop();
    expect(summary.processed).toBe(0);
    await sleep(200);
    expect(input.requeued).toEqual(['t1', 't2']);
    expect(input.queue.map((t) => t.id)).toEqual(['t1', 't2']);
  });

  it('the overall timeout stops the run', async () => {
    const input = new MemoryConnector();
    const task = consumer({
      name: 'timed',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ timeout: '150ms' }) },
      processTransaction: () => 1,
    });
    expect((await runTask(task, run)).reason).toBe('timeout');
  });

  it('an abort signal stops the run; a connector that will not start fails it with CONNECTOR_ERROR', async () => {
    const controller = new AbortController();
    const input = new MemoryConnector();
    const task = consumer({ name: 'signalled', connectors: { input }, processTransaction: () => 1 });
    const running = runTask(task, { ...run, signal: controller.signal });
    controller.abort();
    expect((await running).reason).toBe('stopped');
    const broken = Object.assign(new MemoryConnector(), {
      start: async () => {
        throw new Error('no route to host');
      },
    });
    const summary = await runTask(
      consumer({ name: 'no-start', connectors: { input: broken }, processTransaction: () => 1 }),
      run,
    );
    expect(summary.reason).toBe('failed');
    expect(hasErrorCode(summary.error, ErrorCode.CONNECTOR_ERROR)).toBe(true);
  });
});

describe('producer loop', () => {
  it('takes items lazily in batches, honours limit, and stops at the end of the items', async () => {
    const output = new MemoryConnector<number>();
    let pulled = 0;
    function* items() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield i;
      }
    }
    const task = producer({
      name: 'numbers',
      connectors: { output },
      policies: { producer: new ProducerPolicy({ batchSize: 4, limit: 10 }) },
      items,
      prepareTransaction: (n: number) => n * 10,
    });
    const summary = await runTask(task, run);
    expect(summary).toMatchObject({ reason: 'limit', processed: 10, succeeded: 10 });
    expect(pulled).toBe(10);
    expect(output.dispatched.map((t) => t.payload)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const all = await runTask(
      producer({
        name: 'all',
        connectors: { output },
        items: () => [1, 2],
        prepareTransaction: (n: number) => n,
      }),
      run,
    );
    expect(all.reason).toBe('drained');
  });

  it('stops waiting for items when stopped', async () => {
    const output = new MemoryConnector();
    async function* never() {
      await new Promise(() => {});
      yield 1;
    }
    const running = startTask(
      producer({
        name: 'waiting',
        connectors: { output },
        items: never,
        prepareTransaction: (n: number) => n,
      }),
      run,
    );
    await sleep(30);
    expect((await running.stop()).reason).toBe('stopped');
  });
});
