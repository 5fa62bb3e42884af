/**
 * Flow code for the replay-check tests, in two versions: v2 swaps two steps on
 * the path of orders whose number is a multiple of 3, and nothing else. Every
 * step body notes itself in `ledger`, so a test sees whether any ran.
 */
import { graph } from '@ergon/graph';
import { flow, step } from '../src/index.js';

/** How many step bodies ran, by step name. */
export const ledger = new Map<string, number>();

function note(name: string): string {
  ledger.set(name, (ledger.get(name) ?? 0) + 1);
  return name;
}

/** Total step bodies run so far. */
export function bodiesRun(): number {
  let total = 0;
  for (const n of ledger.values()) total += n;
  return total;
}

const validate = step('validate', async (n: number) => note(`validate-${n % 2}`));

const pack = graph<undefined>('pack')
  .node('pick', async () => note('pick'))
  .node('box', { deps: ['pick'] }, async () => note('box'))
  .build();

export const shipChild = flow('ship-child', async (ctx, n: number) =>
  ctx.run('label', () => note(`label-${n}`)),
);

/** Which orders v2's change touches: the swapped steps are on their path. */
export function touched(n: number): boolean {
  return n % 3 === 0;
}

function orders(swapped: boolean) {
  return flow('orders', async (ctx, n: number) => {
    await ctx.step(validate, n);
    if (n % 3 === 0) {
      // v2 swaps these two: only orders taking this branch diverge.
      if (swapped) {
        await ctx.run('charge', () => note('charge'));
        await ctx.run('reserve', () => note('reserve'));
      } else {
        await ctx.run('reserve', () => note('reserve'));
        await ctx.run('charge', () => note('charge'));
      }
    } else {
      await ctx.run('charge', () => note('charge'));
    }
    // Parallel steps, a DAG, a child, a timer and a signal on some paths.
    await Promise.all([ctx.run('email', () => note('email')), ctx.run('sms', () => note('sms'))]);
    if (n % 4 === 0) await ctx.dag(pack, undefined);
    if (n % 5 === 0) await ctx.child(shipChild, n);
    if (n % 7 === 0) await ctx.sleep('1h');
    if (n % 11 === 0) await ctx.waitForSignal('approve');
    return n;
  });
}

/** The code the histories were recorded with. */
export const v1 = [orders(false), shipChild];
/** The changed code. */
export const v2 = [orders(true), shipChild];
