// The usual lifecycle of a plain consumer (process once, ack) runs in the loop's fast lane;
// its outcomes are those of the general path, and whatever else leaves the lane for it.
import { createTransaction, type Transaction } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import {
  ConsumerPolicy,
  consumer,
  runTask,
  type StageContext,
  startTask,
  type TransactionOutcome,
} from '../src/index.js';
import { MemoryConnector } from './support/memory-connector.js';

const run = { handleSignals: false } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fast lane', () => {
  it('takes work that answers with a value, a promise or a thenable; outcomes as on the general path', async () => {
    const input = new MemoryConnector<number>();
    input.push(...Array.from({ length: 30 }, (_, i) => i));
    // One that continues a trace takes the general path: same outcome.
    input.queue.push(
      createTransaction({
        id: 'traced',
        payload: 30,
        metadata: { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` },
      }),
    );
    const outcomes: TransactionOutcome[] = [];
    const task = consumer({
      name: 'mixed-answers',
      connectors: { input },
      // Fewer permits than a batch: slots are reused, and some lifecycles wait for a permit.
      policies: { consumer: new ConsumerPolicy({ mode: 'batch', concurrency: 4, batchSize: 10 }) },
      processTransaction: (tx: Transaction<number>) => {
        const n = tx.payload;
        if (n % 3 === 0) return n * 10;
        if (n % 3 === 1) return sleep(n % 5).then(() => n * 10);
        // A thenable that is not a promise (intended: the runner must accept one).
        // biome-ignore lint/suspicious/noThenProperty: the test's subject
        const thenable = { then: (resolve: (v: number) => void) => resolve(n * 10) };
        return thenable as unknown as Promise<number>;
      },
    });
    const summary = await runTask(task, { ...run, onOutcome: (o) => outcomes.push(o) });
    expect(summary).toMatchObject({ reason: 'drained', processed: 31, succeeded: 31 });
    expect(input.acked.sort()).toEqual(
      [...Array.from({ length: 30 }, (_, i) => `t${i + 1}`), 'traced'].sort(),
    );
    for (const outcome of outcomes) {
      const n = outcome.transactionId === 'traced' ? 30 : Number(outcome.transactionId?.slice(1)) - 1;
      expect(outcome).toEqual({
        transactionId: outcome.transactionId,
        status: 'succeeded',
        stages: ['process'],
        attempts: { process: 1 },
        settlement: 'ack',
        durationMs: expect.any(Number),
        result: n * 10,
      });
      expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('a first attempt that throws goes on under the retry policy; a throwing ack is reported', async () => {
    const input = new MemoryConnector<number>();
    input.push(1, 2);
    const attempts: number[] = [];
    input.ack = (transaction) => {
      if (transaction.id === 't2') throw new Error('ack refused');
      input.acked.push(transaction.id);
      return Promise.resolve();
    };
    const outcomes: TransactionOutcome[] = [];
    const task = consumer({
      name: 'throws-once',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ mode: 'batch' }) },
      processTransaction: (tx: Transaction<number>, ctx) => {
        if (tx.id === 't1') {
          attempts.push(ctx.attempt);
          if (ctx.attempt === 1) throw new Error('not yet');
        }
        return tx.payload;
      },
    });
    await runTask(task, { ...run, onOutcome: (o) => outcomes.push(o) });
    expect(attempts).toEqual([1, 2]);
    const byId = new Map(outcomes.map((o) => [o.transactionId, o]));
    expect(byId.get('t1')).toMatchObject({
      status: 'succeeded',
      attempts: { process: 2 },
      settlement: 'ack',
    });
    expect(byId.get('t2')).toMatchObject({ status: 'succeeded', settlement: 'none', result: 2 });
    expect(byId.get('t2')?.settleError?.message).toBe('ack refused');
  });

  it('an answer whose then cannot be read requeues its transaction, and the loop goes on', async () => {
    const input = new MemoryConnector<number>();
    input.push(1, 2);
    const outcomes: TransactionOutcome[] = [];
    const task = consumer({
      name: 'bad-answer',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ mode: 'batch', limit: 2 }) },
      processTransaction: (tx: Transaction<number>) => {
        if (tx.payload === 2) return tx.payload;
        const broken = Object.defineProperty({}, 'then', {
          get() {
            throw new Error('no then');
          },
        });
        return broken as Promise<number>;
      },
    });
    const summary = await runTask(task, { ...run, onOutcome: (o) => outcomes.push(o) });
    expect(summary).toMatchObject({ processed: 2, succeeded: 1, failed: 1 });
    expect(input.requeued).toEqual(['t1']);
    expect(input.acked).toEqual(['t2']);
    expect(outcomes.find((o) => o.transactionId === 't1')?.error?.message).toBe('no then');
  });

  it("an attempt's signal fires at the hard stop while it runs, never once it answered", async () => {
    const input = new MemoryConnector<number>();
    input.push(1, 2);
    const contexts = new Map<string, StageContext>();
    const task = consumer({
      name: 'signals',
      connectors: { input },
      processTransaction: (tx: Transaction<number>, ctx) => {
        contexts.set(tx.id, ctx);
        // t1 answers at once (its signal is read only later); t2 runs until its signal fires.
        if (tx.id === 't1') return 1;
        return new Promise<number>((resolve) => ctx.signal.addEventListener('abort', () => resolve(2)));
      },
    });
    const running = startTask(task, run);
    while (contexts.size < 2) await sleep(5);
    const summary = await running.stop({ timeout: '30ms' });
    expect(summary).toMatchObject({ processed: 2, succeeded: 1, aborted: 1 });
    expect(contexts.get('t2')?.signal.aborted).toBe(true);
    expect(contexts.get('t1')?.signal.aborted).toBe(false);
    expect(input.acked).toEqual(['t1']);
    expect(input.requeued).toEqual(['t2']);
  });
});
