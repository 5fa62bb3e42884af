/**
 * Connector conformance: dispatching and finding. `dispatchTransactions`
 * resolves once the broker holds every message and rejects with a typed
 * error when it refuses one; metadata and W3C trace context travel with the
 * message; `findTransaction` reads without taking.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { describe, expect } from 'vitest';
import type { CaseRegistry } from './registry.js';
import {
  type ConformanceTransaction,
  type ConnectorSuiteContext,
  collect,
  expectCode,
  started,
  startedMain,
  transaction,
} from './support.js';

export function dispatchCases(ctx: ConnectorSuiteContext, cases: CaseRegistry): void {
  describe('dispatching', () => {
    cases.test('dispatch resolves only once the broker holds every message', async () => {
      const main = await startedMain(ctx);
      await main.dispatchTransactions?.([]);
      const txs = Array.from({ length: 5 }, (_, n) => transaction(ctx, n));
      await main.dispatchTransactions?.(txs);
      // Counted at once, without polling: resolved means confirmed.
      expect(await ctx.harness.readyCount()).toBe(5);
    });

    cases.test(
      'a publish the broker refuses rejects with CONNECTOR_ERROR',
      async () => {
        const refusing = await ctx.harness.createRefusingConnector?.();
        if (!refusing) throw new Error('capability refusedPublish needs harness.createRefusingConnector');
        await started(ctx, refusing);
        await expectCode(
          Promise.resolve(refusing.dispatchTransactions?.([transaction(ctx, 0)])),
          'CONNECTOR_ERROR',
        );
      },
      { needs: 'refusedPublish' },
    );

    cases.test(
      'metadata and the W3C trace context travel with the message: producer and consumer share one trace',
      async () => {
        const main = await startedMain(ctx);
        const traceId = randomBytes(16).toString('hex');
        const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
        const metadata = { traceparent, tracestate: 'ergon=conformance', 'x-tenant': 'acme' };
        await main.dispatchTransactions?.([transaction(ctx, 0, metadata)]);
        const consumer = await started(ctx, await ctx.harness.createConsumer());
        const [tx] = await collect(consumer, 1);
        expect(tx?.metadata).toMatchObject(metadata);
        expect(tx?.metadata.traceparent?.split('-')[1]).toBe(traceId);
        await consumer.ack?.(tx as ConformanceTransaction);
      },
    );

    cases.test(
      'findTransaction reads a waiting transaction by id without taking it',
      async () => {
        const main = await startedMain(ctx);
        await main.dispatchTransactions?.([transaction(ctx, 0, { 'x-conformance': 'find' })]);
        const [tx] = await collect(main, 1);
        await main.nack?.(tx as ConformanceTransaction, { requeue: true });
        const found = await main.findTransaction?.((tx as ConformanceTransaction).id);
        expect(found?.id).toBe(tx?.id);
        expect(found?.payload).toEqual({ n: 0, run: ctx.run });
        expect(found?.metadata['x-conformance']).toBe('find');
        const [still] = await collect(main, 1);
        expect(still?.id, 'finding must not take the message').toBe(tx?.id);
        await main.ack?.(still as ConformanceTransaction);
        expect(await main.findTransaction?.(`conformance-${ctx.run}-missing`)).toBeUndefined();
      },
      { needs: 'findTransaction' },
    );
  });
}
