/**
 * Connector conformance: start, stop and health. `start` and `stop` are
 * idempotent; health follows the connection; a graceful stop ends waiting
 * fetches, lets settlements already sent finish, gives every unsettled
 * transaction back, and closes.
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
  started,
  startedMain,
} from './support.js';

export function lifecycleCases(ctx: ConnectorSuiteContext, cases: CaseRegistry): void {
  describe('start, stop and health', () => {
    cases.test('start and stop are idempotent, and health follows the connection', async () => {
      const connector = ctx.harness.connector;
      await connector.stop?.();
      await Promise.all([connector.start?.(), connector.start?.()]);
      await started(ctx, connector);
      expect(await ctx.harness.health(connector)).toMatchObject({ healthy: true });
      await Promise.all([connector.stop?.(), connector.stop?.()]);
      await connector.stop?.();
      const after = await ctx.harness.health(connector);
      expect(after.healthy).toBe(false);
      expect(after.detail, 'an unhealthy status says why').toBeTruthy();
    });

    cases.test('stop ends a waiting fetch at once and gives held transactions back', async () => {
      const main = await startedMain(ctx);
      await publish(ctx, 0, 2);
      const held = await collect(main, 2);
      expect(numbers(held)).toEqual([0, 1]);
      const waiting = main.fetchTransactions?.({ limit: 5, signal: AbortSignal.timeout(60_000) });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const began = Date.now();
      await main.stop?.();
      const late = await (waiting ?? Promise.resolve([])).catch(() => []);
      expect(late, 'a fetch waiting at stop returns nothing').toEqual([]);
      expect(Date.now() - began, 'stop and the waiting fetch end within 5 s').toBeLessThan(5000);
      const other = await started(ctx, await ctx.harness.createConsumer());
      const again = await collect(other, 2);
      expect(numbers(again)).toEqual([0, 1]);
      for (const tx of again) await other.ack?.(tx);
    });

    cases.test(
      'an ack sent just before stop takes effect: stop lets in-flight settlements finish',
      async () => {
        const main = await startedMain(ctx);
        await publish(ctx, 0, 3);
        const held = await collect(main, 3);
        expect(held).toHaveLength(3);
        const [first, ...rest] = held as [ConformanceTransaction, ...ConformanceTransaction[]];
        const acking = main.ack?.(first);
        await main.stop?.();
        await acking;
        const other = await started(ctx, await ctx.harness.createConsumer());
        const again = await collect(other, 2);
        expect(numbers(again)).toEqual(numbers(rest));
        for (const tx of again) await other.ack?.(tx);
        await expectNothing(other, 800);
      },
    );
  });
}
