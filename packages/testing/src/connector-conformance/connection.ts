/**
 * Connector conformance: a connection the broker drops is re-established
 * with backoff. Nothing acked comes back; nothing unacked is lost: a
 * transaction held across the drop is either still settleable (streams keep
 * it pending for the consumer) or delivered again (AMQP requeues it), never
 * both, never neither.
 *
 * @module
 */
import { describe, expect } from 'vitest';
import type { CaseRegistry } from './registry.js';
import {
  type ConformanceTransaction,
  type ConnectorSuiteContext,
  collect,
  eventually,
  expectNothing,
  numbers,
  publish,
  range,
  startedMain,
} from './support.js';

export function connectionCases(ctx: ConnectorSuiteContext, cases: CaseRegistry): void {
  describe('a dropped connection', () => {
    cases.test(
      'is re-established: nothing acked is delivered again and nothing unacked is lost',
      async () => {
        const drop = ctx.harness.dropConnection?.bind(ctx.harness);
        if (!drop) throw new Error('capability connectionDrop needs harness.dropConnection');
        const main = await startedMain(ctx);
        await publish(ctx, 0, 6);
        const fetched = await collect(main, 4, { limit: 4 });
        expect(fetched).toHaveLength(4);
        const acked = fetched.slice(0, 2);
        const held = fetched.slice(2);
        for (const tx of acked) await main.ack?.(tx);
        expect((await ctx.harness.health(main)).healthy).toBe(true);

        await drop(main);
        await eventually(async () => (await ctx.harness.health(main)).healthy, 30_000, 'healthy again');
        // Held across the drop: settled now, or given back by the broker to be delivered again.
        const givenBack: ConformanceTransaction[] = [];
        for (const tx of held) {
          try {
            await main.ack?.(tx);
          } catch (error) {
            expect(error, 'a failed ack is a CONNECTOR_ERROR').toMatchObject({ code: 'CONNECTOR_ERROR' });
            givenBack.push(tx);
          }
        }
        const neverFetched = range(0, 6).filter((n) => !fetched.some((tx) => tx.payload.n === n));
        const want = [...neverFetched, ...numbers(givenBack)].sort((a, b) => a - b);
        const rest = await collect(main, want.length, { timeoutMs: 30_000 });
        expect(numbers(rest), 'the never-fetched and the given-back, nothing acked').toEqual(want);
        for (const tx of rest) {
          const before = givenBack.find((b) => b.payload.n === tx.payload.n);
          if (before) expect(tx.id, 'redelivered with the same id').toBe(before.id);
          await main.ack?.(tx);
        }
        await expectNothing(main, 1000);
      },
      { needs: 'connectionDrop', timeout: 90_000 },
    );
  });
}
