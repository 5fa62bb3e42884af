// OTLP/HTTP export of traces, metrics and logs to a receiver started here:
// a real flow runs, shutdown() flushes, and the receiver holds the data.
import { InMemoryExecutionLog } from '@ergon/core';
import { Client, flow, Worker } from '@ergon/executor';
import { context, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, setupTelemetry, type Telemetry } from '../src/index.js';
import { startOtlpReceiver } from './support.js';

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let telemetry: Telemetry;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  telemetry = await setupTelemetry({
    serviceName: 'otlp-test',
    serviceVersion: '1.2.3',
    traces: { exporter: 'otlp', url: `${receiver.url}/v1/traces` },
    metrics: { exporter: 'otlp', url: `${receiver.url}/v1/metrics`, intervalMs: 60_000 },
    logs: { exporter: 'otlp', url: `${receiver.url}/v1/logs` },
  });
});
afterAll(async () => {
  await telemetry.shutdown();
  await receiver.close();
});

describe('OTLP export', () => {
  it('delivers the spans, metrics and log records of a real flow on shutdown', async () => {
    const store = new InMemoryExecutionLog();
    // Without a url the logger's otlp transport uses the provider set up above.
    const logger = createLogger({ service: 'otlp-test', transports: [{ type: 'otlp' }] });
    const shipped = flow('shipped', async (ctx) => {
      await ctx.run('pack', () => logger.info('packing', { token: 'sk_live_123' }));
      return ctx.run('ship', () => 'label-1');
    });
    const worker = new Worker({ store, flows: [shipped], maxIdle: '20ms' }).start();
    let flowId = '';
    try {
      const request = trace.getTracer('test').startSpan('http.request');
      const handle = await context.with(trace.setSpan(context.active(), request), () =>
        new Client({ store }).schedule(shipped, undefined),
      );
      request.end();
      flowId = handle.id;
      expect(await handle.result()).toBe('label-1');
    } finally {
      await worker.stop({ timeout: '1s' });
    }
    await logger.close();
    await telemetry.shutdown();

    for (const path of ['/v1/traces', '/v1/metrics', '/v1/logs']) {
      const posts = receiver.received.filter((r) => r.path === path);
      expect(posts.length, path).toBeGreaterThan(0);
      expect(
        posts.every((p) => p.body.length > 0 && p.contentType.includes('json')),
        path,
      ).toBe(true);
    }

    const spans = receiver
      .bodies('/v1/traces')
      .flatMap((b) => JSON.parse(b).resourceSpans)
      .flatMap((rs: { scopeSpans: { spans: { name: string; traceId: string }[] }[] }) =>
        rs.scopeSpans.flatMap((ss) => ss.spans),
      );
    const names = new Set(spans.map((s) => s.name));
    for (const name of ['http.request', 'ergon.schedule', 'ergon.flow', 'ergon.step', 'ergon.attempt']) {
      expect(names.has(name), name).toBe(true);
    }
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1); // one trace from request to attempt
    const traces = receiver.bodies('/v1/traces').join('');
    expect(traces).toContain(flowId);
    expect(traces).toContain('"otlp-test"');

    const metrics = receiver.bodies('/v1/metrics').join('');
    for (const name of ['ergon.flow.runs', 'ergon.flow.run.duration', 'ergon.steps', 'ergon.step.duration']) {
      expect(metrics).toContain(`"${name}"`);
    }

    const logs = receiver.bodies('/v1/logs').join('');
    expect(logs).toContain('packing');
    expect(logs).not.toContain('sk_live_123');
    expect(logs).toContain(spans[0]?.traceId);
  });
});
