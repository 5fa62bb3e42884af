/**
 * Connector conformance: settling. An ack is final, a requeue delivers the
 * same transaction again (same id: the durable bridge resumes one flow), a
 * dead-letter keeps the reason and the original metadata.
 *
 * @module
 */
import { ErgonError, ErrorCode } from '@ergon/core';
import { describe, expect } from 'vitest';
import type { CaseRegistry } from './registry.js';
import {
  type ConformanceTransaction,
  type ConnectorSuiteContext,
  collect,
  deadLetters,
  expectNothing,
  numbers,
  publish,
  range,
  started,
  startedMain,
  transaction,
} from './support.js';

export function settleCases(ctx: ConnectorSuiteContext, cases: CaseRegistry): void {
  describe('settling', () => {
    cases.test('an acked transaction is never delivered again, here or to another consumer', async () => {
      const main = await startedMain(ctx);
      await publish(ctx, 0, 3);
      const txs = await collect(main, 3);
      expect(numbers(txs)).toEqual(range(0, 3));
      for (const tx of txs) await main.ack?.(tx);
      await expectNothing(main, 800);
      const other = await started(ctx, await ctx.harness.createConsumer());
      await expectNothing(other, 800);
      expect(await ctx.harness.readyCount()).toBe(0);
    });

    cases.test(
      'a nack with requeue delivers the same transaction again: same id, payload and metadata',
      async () => {
        const main = await startedMain(ctx);
        await main.dispatchTransactions?.([transaction(ctx, 0, { 'x-conformance': 'requeue' })]);
        const [first] = await collect(main, 1);
        expect(first?.payload).toEqual({ n: 0, run: ctx.run });
        await main.nack?.(first as ConformanceTransaction, { requeue: true });
        const [again] = await collect(main, 1);
        expect(again?.id).toBe(first?.id);
        expect(again?.payload).toEqual(first?.payload);
        expect(again?.metadata['x-conformance']).toBe('requeue');
        await main.ack?.(again as ConformanceTransaction);
        await expectNothing(main, 500);
      },
    );

    cases.test(
      'a nack without requeue dead-letters it with the reason and its original metadata',
      async () => {
        const main = await startedMain(ctx);
        const sent = transaction(ctx, 0, { 'x-conformance': 'dead' });
        await main.dispatchTransactions?.([sent]);
        const [tx] = await collect(main, 1);
        expect(tx).toBeDefined();
        const reason = new ErgonError(ErrorCode.NON_RETRYABLE, 'card declined: do not retry');
        await main.nack?.(tx as ConformanceTransaction, { requeue: false, reason });
        const dead = await deadLetters(ctx);
        expect(dead).toHaveLength(1);
        const [letter] = dead;
        expect(letter?.id).toBe(tx?.id);
        expect(letter?.payload).toEqual({ n: 0, run: ctx.run });
        expect(letter?.metadata['x-conformance']).toBe('dead');
        expect(letter?.reason.code).toBe(ErrorCode.NON_RETRYABLE);
        expect(letter?.reason.message).toContain('card declined');
        await expectNothing(main, 500);
      },
    );

    cases.test('the transaction id is stable when another consumer gets it again', async () => {
      const main = await startedMain(ctx);
      await publish(ctx, 0, 3);
      const first = await collect(main, 3);
      expect(numbers(first)).toEqual(range(0, 3));
      // Stopping without settling gives the transactions back to the broker.
      await main.stop?.();
      const other = await started(ctx, await ctx.harness.createConsumer());
      const again = await collect(other, 3);
      const ids = (txs: ConformanceTransaction[]) =>
        Object.fromEntries(txs.map((tx) => [tx.payload.n, tx.id]));
      expect(ids(again)).toEqual(ids(first));
      for (const tx of again) await other.ack?.(tx);
    });
  });
}
