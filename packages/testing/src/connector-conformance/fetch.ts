/**
 * Connector conformance: fetching. `limit` is an upper bound, an empty queue
 * answers promptly, an abort ends a wait, and one connector never holds more
 * unsettled transactions than its in-flight bound (prefetch, backpressure).
 *
 * @module
 */
import { describe, expect } from 'vitest';
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
  startedMain,
} from './support.js';

export function fetchCases(ctx: ConnectorSuiteContext, cases: CaseRegistry): void {
  describe('fetching', () => {
    cases.test(
      'every fetch returns at most limit transactions, and later fetches return the rest',
      async () => {
        const main = await startedMain(ctx);
        await publish(ctx, 0, 7);
        const seen: ConformanceTransaction[] = [];
        const deadline = Date.now() + 15_000;
        while (seen.length < 7 && Date.now() < deadline) {
          const batch =
            (await main.fetchTransactions?.({ limit: 2, signal: AbortSignal.timeout(5000) })) ?? [];
          expect(batch.length).toBeLessThanOrEqual(2);
          seen.push(...batch);
          for (const tx of batch) await main.ack?.(tx);
        }
        expect(numbers(seen)).toEqual(range(0, 7));
        await expectNothing(main, 500);
      },
    );

    cases.test('a fetch on an empty queue resolves empty, and an abort ends a waiting fetch', async () => {
      const main = await startedMain(ctx);
      const empty = await main.fetchTransactions?.({ limit: 5, signal: AbortSignal.timeout(5000) });
      expect(empty).toEqual([]);
      const controller = new AbortController();
      const waiting = main.fetchTransactions?.({ limit: 5, signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      const began = Date.now();
      const outcome = await (waiting ?? Promise.resolve([])).then(
        (txs) => ({ txs }),
        (error: unknown) => ({ error }),
      );
      expect(Date.now() - began, 'an aborted fetch must return within 2 s').toBeLessThan(2000);
      if ('error' in outcome) expect(outcome.error).toMatchObject({ code: 'ABORTED' });
      else expect(outcome.txs).toEqual([]);
    });

    cases.test(
      'a connector holds at most its in-flight bound unsettled, and each settlement frees one place',
      async () => {
        const bound = ctx.harness.maxInFlight;
        const main = await startedMain(ctx);
        await publish(ctx, 0, bound * 3);
        // Ask for far more than the bound, for long enough that a broken bound would show.
        const held = await collect(main, bound * 3, { limit: bound * 3, timeoutMs: 2500 });
        expect(held.length, 'fetched while nothing was settled').toBe(bound);
        const [first] = held;
        await main.ack?.(first as ConformanceTransaction);
        const one = await collect(main, 2, { timeoutMs: 1500 });
        expect(one.length, 'fetched after one ack').toBe(1);
        // The bound is per connector: another consumer still gets its own share.
        const other = await started(ctx, await ctx.harness.createConsumer());
        const theirs = await collect(other, bound, { timeoutMs: 10_000 });
        expect(theirs.length).toBe(bound);
        const all = [...held, ...one, ...theirs].map((tx) => tx.payload.n);
        expect(new Set(all).size, 'no transaction is held twice').toBe(all.length);
      },
    );
  });
}
