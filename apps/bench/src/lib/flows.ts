/**
 * The flows the benchmarks run, shared by the parent (which schedules them) and
 * the worker processes (which run them). Steps tell the process they run in
 * what happened through `hooks`, which each process sets for itself.
 *
 * @module
 */
import { flow } from '@ergon/executor';
import { wallNow } from './clock.js';

export const hooks: {
  /** A latency probe's step started. */
  onStart?: (id: number, at: number) => void;
  /** The recovery flow's step started (on the first run, and again after the kill). */
  onHang?: (at: number) => void;
  /** A timer flow's step after the sleep started; `lateMs` = start − intended wake time. */
  onWake?: (lateMs: number) => void;
} = {};

/** `n` no-op steps in a row (step overhead). */
export const noopSteps = flow('bench-noop-steps', async (ctx, n: number) => {
  let total = 0;
  for (let i = 0; i < n; i++) total += await ctx.run('noop', () => i);
  return total;
});

/** One no-op step (throughput). */
export const oneStep = flow('bench-one-step', async (ctx) => ctx.run('a', () => 1));

/** Three sequential no-op steps (throughput). */
export const threeSteps = flow('bench-three-steps', async (ctx) => {
  const a = await ctx.run('a', () => 1);
  const b = await ctx.run('b', () => a + 1);
  return ctx.run('c', () => b + 1);
});

/** Reports the moment its step starts (idle latency). */
export const probe = flow('bench-probe', async (ctx, input: { id: number }) =>
  ctx.run('start', () => {
    hooks.onStart?.(input.id, wallNow());
    return input.id;
  }),
);

/** A step that reports its start and then runs for ten minutes (recovery). */
export const hang = flow('bench-hang', async (ctx) =>
  ctx.run('hang', async (scope) => {
    hooks.onHang?.(wallNow());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 600_000);
      scope.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return 'done';
  }),
);

/** Sleeps until `wakeAt`, then reports how late the next step started (timers). */
export const sleeper = flow('bench-sleeper', async (ctx, input: { wakeAt: number }) => {
  await ctx.sleepUntil(input.wakeAt);
  await ctx.run('after', () => {
    hooks.onWake?.(wallNow() - input.wakeAt);
  });
});

/** `steps` finished steps, then a wait for the signal `go` (resume). */
export const longHistory = flow('bench-long-history', async (ctx, steps: number) => {
  for (let i = 0; i < steps; i++) await ctx.run('s', () => i);
  return ctx.waitForSignal<number>('go');
});

export const ALL_FLOWS = [noopSteps, oneStep, threeSteps, probe, hang, sleeper, longHistory];
