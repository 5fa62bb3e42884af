import { ErrorCode, hasErrorCode, RetryPolicy } from '@ergon/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { graph } from './builder.js';
import { executeGraph } from './execute.js';
import type { Graph } from './graph.js';

interface Order {
  readonly id: string;
  readonly userId: string;
  readonly items: readonly { sku: string; qty: number }[];
  readonly amount: number;
}

const order: Order = { id: 'o-1', userId: 'u-1', items: [{ sku: 'a', qty: 2 }], amount: 120 };

function checkout() {
  return graph<Order>('checkout')
    .node('validateUser', async (_deps, o) => ({ ok: o.userId !== '', userId: o.userId }))
    .node('checkInventory', async (_deps, o) => o.items.reduce((n, i) => n + i.qty, 0))
    .node('checkFraud', { retry: RetryPolicy.STANDARD, timeout: '5s' }, async (_deps, o) => ({
      score: o.amount > 1000 ? 0.9 : 0.1,
    }))
    .node('finalize', { deps: ['validateUser', 'checkInventory', 'checkFraud'] }, async (deps, o, ctx) => {
      expectTypeOf(deps).toEqualTypeOf<{
        readonly validateUser: { ok: boolean; userId: string };
        readonly checkInventory: number;
        readonly checkFraud: { score: number };
      }>();
      expectTypeOf(o).toEqualTypeOf<Order>();
      expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
      return {
        orderId: o.id,
        approved: deps.validateUser.ok && deps.checkInventory > 0 && deps.checkFraud.score < 0.5,
        seen: deps,
      };
    })
    .build();
}

describe('graph() builder', () => {
  it("runs the seed's checkout: finalize sees the three outputs, typed", async () => {
    const g = checkout();
    expect(g.order).toEqual(['validateUser', 'checkInventory', 'checkFraud', 'finalize']);
    const result = await executeGraph(g, order);
    expect(result.status).toBe('completed');
    expectTypeOf(result.outputs.finalize.approved).toEqualTypeOf<boolean>();
    expectTypeOf(result.outputs.checkInventory).toEqualTypeOf<number>();
    expect(result.outputs.finalize).toEqual({
      orderId: 'o-1',
      approved: true,
      seen: { validateUser: { ok: true, userId: 'u-1' }, checkInventory: 2, checkFraud: { score: 0.1 } },
    });
    expect(result.outputs.validateUser).toEqual({ ok: true, userId: 'u-1' });
  });

  it('infers the graph type and carries node options', () => {
    const g = checkout();
    expectTypeOf(g).toExtend<Graph<Order>>();
    const fraud = g.node('checkFraud');
    expect(fraud?.retry).toBe(RetryPolicy.STANDARD);
    expect(fraud?.timeout).toBe('5s');
    expect(g.node('finalize')?.deps).toEqual(['validateUser', 'checkInventory', 'checkFraud']);
  });

  it('only lets deps name nodes declared before, and refuses duplicate names at compile time', () => {
    const b = graph<number>('typed').node('a', (_d, n) => n + 1);
    // @ts-expect-error 'b' is not declared yet
    b.node('c', { deps: ['b'] }, () => 0);
    // @ts-expect-error 'a' is already declared
    b.node('a', () => 0);
    const g = b.node('b', { deps: ['a'] }, (deps) => String(deps.a)).build();
    expectTypeOf<NonNullable<(typeof g)['~types']>['outputs']>().toEqualTypeOf<{ a: number; b: string }>();
  });

  it('is immutable: extending a builder twice gives two independent graphs', () => {
    const base = graph('base').node('a', () => 1);
    const left = base.node('l', { deps: ['a'] }, (d) => d.a + 1).build();
    const right = base.node('r', { deps: ['a'] }, (d) => d.a + 2).build();
    expect(left.order).toEqual(['a', 'l']);
    expect(right.order).toEqual(['a', 'r']);
    expect(base.build().order).toEqual(['a']);
  });

  it('refuses a duplicate name at build time when the types are bypassed', () => {
    const b = graph('dup').node('a', () => 1);
    const bypass = b as unknown as { node(name: string, run: () => number): typeof b };
    let caught: unknown;
    try {
      bypass.node('a', () => 2).build();
    } catch (error) {
      caught = error;
    }
    expect(hasErrorCode(caught, ErrorCode.DAG_INVALID)).toBe(true);
  });

  it('passes the input and a context naming the node', async () => {
    const seen: string[] = [];
    const g = graph<string>('ctx')
      .node('x', (_d, input, ctx) => {
        seen.push(`${ctx.graph}/${ctx.node}:${input}`);
        expect(ctx.signal.aborted).toBe(false);
      })
      .build();
    await executeGraph(g, 'hi');
    expect(seen).toEqual(['ctx/x:hi']);
  });
});
