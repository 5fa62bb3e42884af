// Timeouts that really stop work: a thread stuck in a CPU loop is terminated,
// the exception handler runs, and the pool keeps serving.
import { ErrorCode, RetryPolicy, type Transaction } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import {
  ConsumerPolicy,
  consumer,
  runTask,
  TaskTimeoutError,
  threadWork,
  type TransactionOutcome,
} from '../src/index.js';
import { MemoryConnector } from './support/memory-connector.js';

const WORK = new URL('./fixtures/work.mjs', import.meta.url);

interface Job {
  n: number;
  spin?: boolean;
}

describe('timeouts', () => {
  it('a threaded task in an endless CPU loop is terminated at its timeout; the pool keeps serving', async () => {
    const input = new MemoryConnector<Job>();
    input.push({ n: 1, spin: true }, { n: 2 }, { n: 3 }, { n: 4 });
    const handled: string[] = [];
    const outcomes: TransactionOutcome[] = [];
    const task = consumer({
      name: 'spinner',
      connectors: { input },
      policies: {
        consumer: new ConsumerPolicy({
          mode: 'batch',
          concurrency: 1, // one thread: the later transactions need its replacement
          // 3 s, not 1 s: a replacement thread's start-up counts against the attempt's timeout,
          // and with twenty suites on two cores a start-up alone took over a second (CI, once).
          retry: { process: new RetryPolicy({ maxAttempts: 1, timeout: '3s' }) },
        }),
      },
      processTransaction: threadWork<Transaction<Job>, { doubled: number; threadId: number }>(WORK, 'double'),
      handleException: (tx, error) => {
        handled.push(`${tx.id}:${(error as TaskTimeoutError).code}`);
      },
    });
    const started = Date.now();
    const summary = await runTask(task, { handleSignals: false, onOutcome: (o) => outcomes.push(o) });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(handled).toEqual(['t1:TIMEOUT']);
    expect(outcomes[0]?.error).toBeInstanceOf(TaskTimeoutError);
    expect(summary).toMatchObject({ succeeded: 3, failed: 1, threads: { created: 2, terminated: 1 } });
    const threadIds = outcomes.slice(1).map((o) => (o.result as { threadId: number }).threadId);
    expect(new Set(threadIds).size).toBe(1); // the replacement thread served them all
    expect(input.deadLettered.map((d) => d.id)).toEqual(['t1']);
  });

  it('an async attempt that ignores its signal still fails with TIMEOUT at its deadline', async () => {
    const input = new MemoryConnector<Job>();
    input.push({ n: 1 });
    const outcomes: TransactionOutcome[] = [];
    const task = consumer({
      name: 'sleepy',
      connectors: { input },
      policies: {
        consumer: new ConsumerPolicy({
          mode: 'batch',
          retry: { process: new RetryPolicy({ maxAttempts: 2, timeout: '50ms' }) },
        }),
      },
      processTransaction: () => new Promise((resolve) => setTimeout(resolve, 400)),
    });
    await runTask(task, { handleSignals: false, onOutcome: (o) => outcomes.push(o) });
    expect(outcomes[0]).toMatchObject({ status: 'failed', attempts: { process: 2 } });
    const error = outcomes[0]?.error as TaskTimeoutError;
    expect(error.code).toBe(ErrorCode.TIMEOUT);
    expect(error.scope).toBe('process');
  });

  it('the transaction timeout ends a process attempt that ignores its signal; no attempt follows it', async () => {
    const input = new MemoryConnector<Job>();
    input.push({ n: 1 });
    let attempts = 0;
    const outcomes: TransactionOutcome[] = [];
    const task = consumer({
      name: 'overrun',
      connectors: { input },
      policies: {
        consumer: new ConsumerPolicy({
          mode: 'batch',
          transactionTimeout: '50ms',
          retry: { process: new RetryPolicy({ maxAttempts: 3, initialDelay: '1ms' }) },
        }),
      },
      processTransaction: () => {
        attempts++;
        return new Promise((resolve) => setTimeout(resolve, 400));
      },
    });
    await runTask(task, { handleSignals: false, onOutcome: (o) => outcomes.push(o) });
    expect(attempts).toBe(1);
    expect(outcomes[0]).toMatchObject({
      status: 'failed',
      attempts: { process: 1 },
      settlement: 'dead-letter',
    });
    expect(outcomes[0]?.error).toMatchObject({ scope: 'transaction' });
    expect(input.deadLettered.map((d) => d.id)).toEqual(['t1']);
  });

  it('the transaction timeout bounds process and success together; the exception handler still runs', async () => {
    const input = new MemoryConnector<Job>();
    input.push({ n: 1 });
    const seen: string[] = [];
    const outcomes: TransactionOutcome[] = [];
    const task = consumer({
      name: 'bounded',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ mode: 'batch', transactionTimeout: '300ms' }) },
      processTransaction: async (_tx, ctx) => {
        await new Promise((r) => setTimeout(r, 20));
        return ctx.attempt;
      },
      handleSuccess: async (_tx, _r, ctx) => {
        await new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, 3000);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            seen.push('success aborted');
            reject(ctx.signal.reason);
          });
        });
      },
      handleException: (_tx, error) => void seen.push(`exception ${(error as TaskTimeoutError).scope}`),
    });
    await runTask(task, { handleSignals: false, onOutcome: (o) => outcomes.push(o) });
    expect(seen).toEqual(['success aborted', 'exception transaction']);
    expect(outcomes[0]).toMatchObject({
      status: 'failed',
      failedStage: 'success',
      settlement: 'dead-letter',
    });
  });
});
