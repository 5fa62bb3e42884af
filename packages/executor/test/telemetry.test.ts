// Instrumentation through @opentelemetry/api, checked with the real SDK and
// in-memory exporters: span names, parents and attributes; one trace across
// workers; bounded metric attributes.
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { RetryPolicy } from '@ergon/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flow } from '../src/index.js';
import { freezable, harness, until } from './support.js';

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
  );
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});
afterAll(() => {
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
});

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const named = (name: string, flowId: string) =>
  spans.getFinishedSpans().filter((s) => s.name === name && s.attributes['ergon.flow.id'] === flowId);
/**
 * The finished `ergon.flow` spans of a flow, once there are `count`. `result()` can resolve
 * (on the store's `finished` event) a moment before the worker that wrote the outcome ends
 * the flow's span.
 */
const flowSpans = async (flowId: string, count = 1) => {
  await until(() => named('ergon.flow', flowId).length >= count);
  return named('ergon.flow', flowId);
};

describe('telemetry', () => {
  const h = harness();

  it('builds ergon.flow → ergon.step → ergon.attempt for a flow with a retried step', async () => {
    let tries = 0;
    const f = flow('traced', async (ctx) => {
      await ctx.run(
        'flaky',
        () => {
          if (++tries < 2) throw new Error('first try fails');
          return 'ok';
        },
        { retry: new RetryPolicy({ maxAttempts: 2, initialDelay: 1 }) },
      );
      return 'done';
    });
    h.startWorker([f], { id: 'w-traced' });
    const handle = await h.client.schedule(f, undefined);
    await handle.result();
    const [flowSpan] = await flowSpans(handle.id);
    const [step] = named('ergon.step', handle.id);
    const attempts = named('ergon.attempt', handle.id).sort(
      (a, b) => Number(a.attributes['ergon.attempt']) - Number(b.attributes['ergon.attempt']),
    );
    expect(flowSpan?.attributes).toMatchObject({
      'ergon.flow.type': 'traced',
      'ergon.worker.id': 'w-traced',
      'ergon.outcome': 'completed',
    });
    expect(step?.attributes).toMatchObject({
      'ergon.step.key': 'flaky#0',
      'ergon.flow.type': 'traced',
      'ergon.outcome': 'completed',
    });
    expect(parentOf(step as ReadableSpan)).toBe(flowSpan?.spanContext().spanId);
    expect(attempts.map((a) => a.attributes['ergon.attempt'])).toEqual([1, 2]);
    expect(
      attempts.every((a) => a.name === 'ergon.attempt' && parentOf(a) === step?.spanContext().spanId),
    ).toBe(true);
    expect(attempts[0]?.status.code).toBe(2); // ERROR
    const [scheduled] = spans
      .getFinishedSpans()
      .filter((s) => s.name === 'ergon.schedule' && s.attributes['ergon.flow.id'] === handle.id);
    expect(flowSpan?.spanContext().traceId).toBe(scheduled?.spanContext().traceId);
  });

  it('keeps a flow resumed by a second worker after a timer in the trace it started in', async () => {
    const f = flow('sleeper', async (ctx) => {
      await ctx.run('before', () => 1);
      await ctx.sleep('1s'); // long enough to see it suspended on a loaded machine
      await ctx.run('after', () => 2);
    });
    const first = freezable(h.store);
    h.startWorker([f], { id: 'first', store: first.store });
    const handle = await h.client.schedule(f, undefined);
    await until(async () => (await handle.status()) === 'suspended');
    first.freeze(); // the first worker is gone
    h.startWorker([f], { id: 'second' });
    await handle.result();
    const runs = await flowSpans(handle.id, 2);
    expect(runs.map((r) => r.attributes['ergon.worker.id']).sort()).toEqual(['first', 'second']);
    expect(new Set(runs.map((r) => r.spanContext().traceId)).size).toBe(1);
  });

  it('continues the caller’s trace when scheduled inside a span', async () => {
    const f = flow('child-of-request', async (ctx) => ctx.run('x', () => 1));
    h.startWorker([f]);
    const request = trace.getTracer('test').startSpan('http.request');
    const handle = await context.with(trace.setSpan(context.active(), request), () =>
      h.client.schedule(f, undefined),
    );
    request.end();
    await handle.result();
    const [run] = await flowSpans(handle.id);
    expect(run?.spanContext().traceId).toBe(request.spanContext().traceId);
  });

  it('fixes the attribute keys of every metric, so unbounded values cannot creep in', async () => {
    const allowed: Record<string, string[]> = {
      'ergon.flow.runs': ['ergon.flow.type', 'ergon.outcome'],
      'ergon.flow.run.duration': ['ergon.flow.type', 'ergon.outcome'],
      'ergon.flows.active': ['ergon.flow.type'],
      'ergon.steps': ['ergon.flow.type', 'ergon.outcome'],
      'ergon.step.duration': ['ergon.flow.type', 'ergon.outcome'],
      'ergon.step.retries': ['ergon.flow.type'],
      'ergon.timer.lateness': ['ergon.flow.type'],
      'ergon.queue.depth': ['ergon.queue'],
    };
    let tries = 0;
    const f = flow('metered', async (ctx) => {
      await ctx.run(
        'flaky',
        () => {
          if (++tries < 2) throw new Error('again');
        },
        { retry: new RetryPolicy({ maxAttempts: 2, initialDelay: 1 }) },
      );
      await ctx.sleep('10ms');
    });
    h.startWorker([f]);
    for (let i = 0; i < 3; i++) await (await h.client.schedule(f, undefined)).result();
    await reader.forceFlush();
    const seen = new Map<string, Set<string>>();
    for (const batch of metricExporter.getMetrics()) {
      for (const scope of batch.scopeMetrics) {
        if (scope.scope.name !== '@ergon/executor') continue;
        for (const metric of scope.metrics) {
          const keys = seen.get(metric.descriptor.name) ?? new Set<string>();
          for (const point of metric.dataPoints) for (const k of Object.keys(point.attributes)) keys.add(k);
          seen.set(metric.descriptor.name, keys);
        }
      }
    }
    expect([...seen.keys()].sort()).toEqual(Object.keys(allowed).sort());
    for (const [name, keys] of seen) expect([...keys].sort(), name).toEqual(allowed[name]?.sort());
  });
});
