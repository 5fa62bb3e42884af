// Many steps of one flow at once: each attempt listens to the flow's cancellation, and
// Node's listener-leak warning (past 10 on one AbortSignal) must not fire for it.
import { describe, expect, it } from 'vitest';
import { flow } from '../src/index.js';
import { harness } from './support.js';

describe('parallel steps', () => {
  const h = harness();

  it('runs 30 steps at once, each reading its signal, without a listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const wide = flow('wide', async (ctx) => {
        const parts = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            ctx.run(`part-${i}`, async (s) => {
              expect(s.signal.aborted).toBe(false);
              await new Promise((resolve) => setTimeout(resolve, 5));
              return i;
            }),
          ),
        );
        return parts.reduce((a, b) => a + b, 0);
      });
      h.startWorker([wide]);
      const handle = await h.client.schedule(wide, undefined);
      expect(await handle.result()).toBe(435);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
