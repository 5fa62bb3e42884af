// A real flow on a real Worker, then a real HTTP scrape of the Prometheus
// endpoint that setupTelemetry serves on a free port.
import { InMemoryExecutionLog, RetryPolicy } from '@ergon/core';
import { Client, flow, Worker } from '@ergon/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTelemetry, type Telemetry } from '../src/index.js';

let telemetry: Telemetry;

beforeAll(async () => {
  telemetry = await setupTelemetry({
    serviceName: 'prometheus-test',
    traces: { exporter: 'none' },
    metrics: { exporter: 'prometheus', port: 0, host: '127.0.0.1' },
  });
});
afterAll(async () => {
  await telemetry.shutdown();
});

describe('Prometheus endpoint', () => {
  it('shows the Ergon metrics of flows run by a worker', async () => {
    const store = new InMemoryExecutionLog();
    let tries = 0;
    const order = flow('scraped-order', async (ctx, n: number) => {
      await ctx.run(
        'flaky',
        () => {
          if (++tries === 1) throw new Error('first try fails');
        },
        { retry: new RetryPolicy({ maxAttempts: 2, initialDelay: 1 }) },
      );
      await ctx.sleep('150ms');
      return ctx.run('total', () => n * 2);
    });
    const worker = new Worker({ store, flows: [order], maxIdle: '20ms' }).start();
    const client = new Client({ store });
    const handles = await Promise.all([1, 2, 3].map((n) => client.schedule(order, n)));
    try {
      expect(await Promise.all(handles.map((h) => h.result()))).toEqual([2, 4, 6]);
    } finally {
      await worker.stop({ timeout: '1s' });
    }

    const url = telemetry.prometheus?.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const response = await fetch(url as string);
    expect(response.status).toBe(200);
    const text = await response.text();
    const sample = (name: string) =>
      text.split('\n').find((l) => l.startsWith(name) && l.includes('ergon_flow_type="scraped-order"'));

    // ergon.flow.runs → ergon_flow_runs_total, and so on (Prometheus naming).
    for (const name of [
      'ergon_flow_runs',
      'ergon_flow_run_duration',
      'ergon_flows_active',
      'ergon_steps',
      'ergon_step_duration',
      'ergon_step_retries',
      'ergon_timer_lateness',
    ]) {
      expect(text, name).toContain(`# TYPE ${name}`);
    }
    // Each flow runs twice (before and after its sleep): 3 completed, 3 suspended. Under heavy
    // load a sleep can be due before its suspend is written; the run then goes on, one run fewer.
    const runs = await Promise.all(handles.map(async (h) => (await store.getFlow(h.id))?.runCount ?? 0));
    const suspendedRuns = runs.reduce((total, n) => total + n - 1, 0);
    expect(suspendedRuns).toBeGreaterThan(0);
    for (const [outcome, count] of [
      ['completed', 3],
      ['suspended', suspendedRuns],
    ] as const) {
      expect(text).toMatch(
        new RegExp(`ergon_flow_runs_total\\{[^}]*ergon_outcome="${outcome}"[^}]*\\} ${count}\n`),
      );
    }
    expect(sample('ergon_step_retries_total{')).toMatch(/ 1$/);
    expect(sample('ergon_steps_total{')).toBeDefined();
    expect(sample('ergon_flows_active{')).toMatch(/ 0$/);
    expect(text).toContain('service_name="prometheus-test"');
  });

  it('answers 404 off the metrics path', async () => {
    const url = new URL(telemetry.prometheus?.url as string);
    const response = await fetch(new URL('/other', url));
    expect(response.status).toBe(404);
    await response.arrayBuffer();
  });
});
