// setupTelemetry's contract: validation, globals registered and restored,
// the resource, double set-up refused, busy ports reported, and executor
// running as a no-op when telemetry is not set up.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, InMemoryExecutionLog } from '@ergon/core';
import { Executor, flow } from '@ergon/executor';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setupTelemetry, type Telemetry } from '../src/index.js';

const delegateName = () =>
  (trace.getTracerProvider() as unknown as { getDelegate(): { constructor: { name: string } } }).getDelegate()
    .constructor.name;
const meterName = () => (metrics.getMeterProvider() as { constructor: { name: string } }).constructor.name;

const tenSteps = flow('ten-steps', async (ctx) => {
  for (let i = 0; i < 10; i++) await ctx.run('noop', () => i);
  return 'done';
});

let open: Telemetry | undefined;
afterEach(async () => {
  await open?.shutdown();
  open = undefined;
  vi.restoreAllMocks();
});

describe('setupTelemetry', () => {
  it('leaves the executor a no-op when not set up', async () => {
    expect(delegateName()).toBe('NoopTracerProvider');
    expect(meterName()).toBe('NoopMeterProvider');
    const outcome = await new Executor({ store: new InMemoryExecutionLog() }).execute(tenSteps, undefined);
    expect(outcome.status).toBe('completed');
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('registers providers, propagator and context manager, and restores the no-ops on shutdown', async () => {
    const spans = new InMemorySpanExporter();
    const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({
      exporter: metricExporter,
      exportIntervalMillis: 60_000,
    });
    open = await setupTelemetry({
      serviceName: 'setup-test',
      attributes: { 'deployment.environment.name': 'test' },
      traces: { exporter: spans },
      metrics: { exporter: reader },
    });
    expect(open.resource.attributes).toMatchObject({
      'service.name': 'setup-test',
      'host.name': expect.any(String),
      'process.pid': process.pid,
      'deployment.environment.name': 'test',
    });
    expect(delegateName()).not.toBe('NoopTracerProvider');
    expect(meterName()).toBe('MeterProvider');

    const outcome = await new Executor({ store: new InMemoryExecutionLog() }).execute(tenSteps, undefined);
    expect(outcome.status).toBe('completed');
    await open.flush();
    const names = spans.getFinishedSpans().map((s) => s.name);
    expect(names.filter((n) => n === 'ergon.step')).toHaveLength(10);
    expect(names).toContain('ergon.flow');
    expect(spans.getFinishedSpans()[0]?.resource.attributes['service.name']).toBe('setup-test');

    // W3C propagation and the AsyncLocalStorage context manager are live.
    const span = trace.getTracer('t').startSpan('parent');
    const carrier: Record<string, string> = {};
    await context.with(trace.setSpan(context.active(), span), async () => {
      await new Promise((r) => setTimeout(r, 1));
      propagation.inject(context.active(), carrier);
    });
    span.end();
    expect(carrier.traceparent).toContain(span.spanContext().traceId);

    await open.shutdown();
    await open.shutdown(); // idempotent
    open = undefined;
    expect(delegateName()).toBe('NoopTracerProvider');
    expect(meterName()).toBe('NoopMeterProvider');
    const after: Record<string, string> = {};
    propagation.inject(context.active(), after);
    expect(after).toEqual({});
  });

  it('refuses a second set-up until the first is shut down', async () => {
    open = await setupTelemetry({ serviceName: 'first', traces: { exporter: 'none' } });
    await expect(
      setupTelemetry({ serviceName: 'second', traces: { exporter: 'none' } }),
    ).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
    await open.shutdown();
    open = await setupTelemetry({ serviceName: 'second', traces: { exporter: 'none' } });
    expect(open.resource.attributes['service.name']).toBe('second');
  });

  it('reports a taken Prometheus port and leaves nothing registered', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const { port } = blocker.address() as AddressInfo;
    try {
      await expect(
        setupTelemetry({
          serviceName: 'busy',
          traces: { exporter: 'none' },
          metrics: { exporter: 'prometheus', port, host: '127.0.0.1' },
        }),
      ).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, details: { port } });
      expect(delegateName()).toBe('NoopTracerProvider');
      expect(meterName()).toBe('NoopMeterProvider');
    } finally {
      blocker.close();
    }
    open = await setupTelemetry({ serviceName: 'after-busy', traces: { exporter: 'none' } });
  });

  it('works with the console exporters', async () => {
    const dir = vi.spyOn(console, 'dir').mockImplementation(() => {});
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    open = await setupTelemetry({
      serviceName: 'console-test',
      traces: { exporter: 'console' },
      metrics: { exporter: 'console', intervalMs: 60_000 },
      logs: { exporter: 'console' },
    });
    await new Executor({ store: new InMemoryExecutionLog() }).execute(tenSteps, undefined);
    await open.shutdown();
    open = undefined;
    const printed = [...dir.mock.calls, ...log.mock.calls].map((c) => JSON.stringify(c[0]));
    expect(printed.some((p) => p?.includes('ergon.step'))).toBe(true);
  });

  it('rejects malformed options with INVALID_ARGUMENT before touching any global', async () => {
    const bad: unknown[] = [
      undefined,
      {},
      { serviceName: '' },
      { serviceName: 'x', tracing: { exporter: 'otlp' } },
      { serviceName: 'x', traces: { exporter: 'jaeger' } },
      { serviceName: 'x', traces: { exporter: 'otlp', url: 'not a url' } },
      { serviceName: 'x', traces: { exporter: 'none', sampleRatio: 2 } },
      { serviceName: 'x', traces: { exporter: {} } },
      { serviceName: 'x', metrics: { exporter: 'statsd' } },
      { serviceName: 'x', metrics: { exporter: 'prometheus', port: 70_000 } },
      { serviceName: 'x', metrics: { exporter: 'prometheus', port: 1.5 } },
      { serviceName: 'x', metrics: { exporter: 'prometheus', endpoint: 'metrics' } },
      { serviceName: 'x', metrics: { exporter: 'otlp', intervalMs: 0 } },
      { serviceName: 'x', metrics: { exporter: 'otlp', headers: { key: 1 } } },
      { serviceName: 'x', logs: { exporter: 'file' } },
      { serviceName: 'x', attributes: { nested: {} } },
    ];
    for (const options of bad) {
      await expect(setupTelemetry(options as never), JSON.stringify(options)).rejects.toMatchObject({
        code: ErrorCode.INVALID_ARGUMENT,
      });
    }
    expect(delegateName()).toBe('NoopTracerProvider');
    expect(meterName()).toBe('NoopMeterProvider');
  });
});
