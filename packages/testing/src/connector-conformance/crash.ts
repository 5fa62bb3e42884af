/**
 * Connector conformance: a consumer process that dies holding transactions
 * (a real child process, SIGKILLed, so nothing is settled or closed) has
 * them delivered again, with the same ids, to another consumer.
 *
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect } from 'vitest';
import type { ChildReport } from '../connector-child.js';
import type { CaseRegistry } from './registry.js';
import {
  type ConformanceTransaction,
  type ConnectorSuiteContext,
  collect,
  expectNothing,
  numbers,
  publish,
  range,
  started,
} from './support.js';

/** Waits for the child's next report of `type`; an `error` report or an exit fails. */
function report<T extends ChildReport['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<ChildReport, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`no '${type}' from the child within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: ChildReport) => {
      if (message.type === type) done(undefined, message as Extract<ChildReport, { type: T }>);
      else if (message.type === 'error') done(new Error(`child: ${message.message}`));
    };
    const onExit = (code: number | null) =>
      done(new Error(`the child exited (code ${code}) before '${type}'`));
    const done = (error?: Error, value?: Extract<ChildReport, { type: T }>) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as Extract<ChildReport, { type: T }>);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export function crashCases(ctx: ConnectorSuiteContext, cases: CaseRegistry): void {
  describe('a consumer process that dies', () => {
    cases.test(
      'its unsettled transactions go to another consumer after a SIGKILL, with the same ids',
      async () => {
        const spec = ctx.harness.consumerProcess;
        if (!spec) throw new Error('capability processCrash needs harness.consumerProcess');
        await publish(ctx, 0, 3);
        const child = fork(spec.script, [...(spec.args ?? [])], {
          execArgv: [],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        try {
          await report(child, 'ready', 20_000);
          child.send({ type: 'fetch', count: 3, timeoutMs: 15_000 });
          const { transactions } = await report(child, 'fetched', 20_000);
          const held = transactions as readonly { id: string; payload: ConformanceTransaction['payload'] }[];
          expect(held.map((tx) => tx.payload.n).sort()).toEqual(range(0, 3));
          // While the child lives, what it holds is nobody else's.
          const other = await started(ctx, await ctx.harness.createConsumer());
          await expectNothing(other, 800);
          child.kill('SIGKILL');
          await once(child, 'exit');
          const again = await collect(other, 3, { timeoutMs: 30_000 });
          expect(numbers(again)).toEqual(range(0, 3));
          const ids = Object.fromEntries(held.map((tx) => [tx.payload.n, tx.id]));
          for (const tx of again) expect(tx.id).toBe(ids[tx.payload.n]);
          for (const tx of again) await other.ack?.(tx);
        } finally {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        }
      },
      { needs: 'processCrash', timeout: 90_000 },
    );
  });
}
