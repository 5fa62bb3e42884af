// Per-step overhead of a 100-step no-op flow on the in-memory store, in process.
// Not a test: prints numbers. Run after a build: `node bench/step-overhead.mjs`.
import { InMemoryExecutionLog } from '@ergon/core';
import { Executor, flow } from '../dist/index.js';

const STEPS = 100;
const FLOWS = Number(process.env.FLOWS ?? 200);
const noop = flow('noop-100', async (ctx) => {
  for (let i = 0; i < STEPS; i++) await ctx.run('noop', () => i);
  return STEPS;
});

async function measure(count) {
  const store = new InMemoryExecutionLog();
  const executor = new Executor({ store });
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const outcome = await executor.execute(noop, undefined);
    if (outcome.status !== 'completed') throw new Error(`unexpected ${outcome.status}`);
  }
  return Number(process.hrtime.bigint() - start) / 1e3 / (count * STEPS);
}

await measure(20); // warm-up
const perStep = await measure(FLOWS);
const result = { name: 'step-overhead-memory', unit: 'µs/step', value: Number(perStep.toFixed(2)), flows: FLOWS, steps: STEPS };
console.log(`in-memory store: ${result.value} µs per step (${FLOWS} flows × ${STEPS} no-op steps, node ${process.version})`);
console.log(JSON.stringify(result));
