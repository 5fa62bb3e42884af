// Per-step cost of telemetry: a 100-step no-op flow on the in-memory store,
// in process, with telemetry off, then on with the SDK in process and nothing
// exported ('none'), then on with spans batched to an exporter that drops
// them and metrics aggregated by a reader (what a real exporter would add,
// minus the network). Not a test: prints numbers. Run after a build:
// `node bench/overhead.mjs` (FLOWS=… to change the count).
import { InMemoryExecutionLog } from '@ergon/core';
import { Executor, flow } from '@ergon/executor';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { setupTelemetry } from '../dist/index.js';

const STEPS = 100;
const FLOWS = Number(process.env.FLOWS ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const noop = flow('noop-100', async (ctx) => {
  for (let i = 0; i < STEPS; i++) await ctx.run('noop', () => i);
  return STEPS;
});

/** A span exporter that accepts and drops every batch. */
const dropSpans = {
  export(_spans, done) {
    done({ code: 0 });
  },
  shutdown: async () => {},
  forceFlush: async () => {},
};

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

const configs = {
  off: undefined,
  'on (none)': () =>
    setupTelemetry({ serviceName: 'bench', traces: { exporter: 'none' }, metrics: { exporter: 'none' } }),
  'on (exporting)': () =>
    setupTelemetry({
      serviceName: 'bench',
      traces: { exporter: dropSpans },
      metrics: {
        exporter: new PeriodicExportingMetricReader({
          exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
          exportIntervalMillis: 3_600_000,
        }),
      },
    }),
};

// Interleave the configurations over several rounds and keep each one's best,
// so JIT warm-up and GC noise do not favour whichever runs last.
const best = Object.fromEntries(Object.keys(configs).map((k) => [k, Number.POSITIVE_INFINITY]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, setup] of Object.entries(configs)) {
    const telemetry = await setup?.();
    await measure(20); // warm-up
    best[name] = Math.min(best[name], await measure(FLOWS));
    await telemetry?.shutdown();
  }
}

const off = best.off;
console.log(
  `${FLOWS} flows × ${STEPS} no-op steps, in-memory store, node ${process.version}, best of ${ROUNDS}`,
);
for (const [name, value] of Object.entries(best)) {
  console.log(
    `  telemetry ${name.padEnd(15)} ${value.toFixed(2).padStart(7)} µs/step   ×${(value / off).toFixed(2)}`,
  );
}
console.log(
  JSON.stringify({
    name: 'telemetry-overhead-memory',
    unit: 'µs/step',
    flows: FLOWS,
    steps: STEPS,
    off: Number(off.toFixed(2)),
    onNone: Number(best['on (none)'].toFixed(2)),
    onExporting: Number(best['on (exporting)'].toFixed(2)),
    ratioNone: Number((best['on (none)'] / off).toFixed(2)),
    ratioExporting: Number((best['on (exporting)'] / off).toFixed(2)),
  }),
);
