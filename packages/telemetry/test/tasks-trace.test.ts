// The task side of DESIGN §4, with the real SDK set up by setupTelemetry and an
// in-memory exporter: the span tree of a consumer with a retried transaction,
// and one trace shared by a producer and its consumer through a file connector.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RetryPolicy, type Transaction } from '@ergon/core';
import { createJsonLinesConnector } from '@ergon/connectors-file';
import { ConsumerPolicy, consumer, ProducerPolicy, producer, runTask } from '@ergon/tasks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTelemetry, type Telemetry } from '../src/index.js';

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
let telemetry: Telemetry | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  telemetry = await setupTelemetry({
    serviceName: 'tasks-trace',
    traces: { exporter: spans },
    metrics: { exporter: reader },
  });
});
afterAll(async () => {
  await telemetry?.shutdown();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ergon-tasks-trace-'));
  dirs.push(dir);
  return dir;
};
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const byName = (name: string) => spans.getFinishedSpans().filter((s) => s.name === name);

describe('task spans', () => {
  it('ergon.task → ergon.batch → ergon.transaction → ergon.attempt for a retried transaction', async () => {
    spans.reset();
    const dir = temp();
    const source = createJsonLinesConnector<{ n: number }>({ path: join(dir, 'in.jsonl') });
    const seed = createJsonLinesConnector<{ n: number }>({ path: join(dir, 'in.jsonl') });
    const { createTransaction } = await import('@ergon/core');
    await seed.dispatchTransactions([createTransaction({ payload: { n: 1 } })]);
    await seed.stop();
    let tries = 0;
    const task = consumer({
      name: 'retrying-consumer',
      connectors: { input: source },
      policies: {
        consumer: new ConsumerPolicy({
          mode: 'batch',
          retry: { process: new RetryPolicy({ maxAttempts: 2, initialDelay: 1 }) },
        }),
      },
      processTransaction: (tx: Transaction<{ n: number }>) => {
        if (++tries === 1) throw new Error('first attempt fails');
        return tx.payload.n;
      },
    });
    const summary = await runTask(task, { handleSignals: false });
    expect(summary).toMatchObject({ succeeded: 1 });
    await telemetry?.flush();

    const [taskSpan] = byName('ergon.task');
    const [transaction] = byName('ergon.transaction');
    const batch = byName('ergon.batch').find(
      (b) => b.spanContext().spanId === parentOf(transaction as ReadableSpan),
    );
    const attempts = byName('ergon.attempt').filter((a) => a.attributes['ergon.stage'] === 'process');
    expect(taskSpan?.attributes['ergon.task.name']).toBe('retrying-consumer');
    expect(batch).toBeDefined();
    expect(parentOf(batch as ReadableSpan)).toBe(taskSpan?.spanContext().spanId);
    expect(transaction?.attributes).toMatchObject({
      'ergon.task.name': 'retrying-consumer',
      'ergon.transaction.id': expect.any(String),
    });
    expect(attempts.map((a) => a.attributes['ergon.attempt']).sort()).toEqual([1, 2]);
    for (const a of attempts) {
      expect(a.name).toBe('ergon.attempt'); // the attempt number is an attribute, not part of the name
      expect(parentOf(a)).toBe(transaction?.spanContext().spanId);
    }
  });

  it('a producer and its consumer, joined by a file connector, share one trace id', async () => {
    spans.reset();
    const path = join(temp(), 'orders.jsonl');
    const produce = producer({
      name: 'order-producer',
      connectors: { output: createJsonLinesConnector<{ order: number }>({ path }) },
      policies: { producer: new ProducerPolicy({ batchSize: 1 }) },
      items: () => [1],
      prepareTransaction: (order: number) => ({ order }),
    });
    await runTask(produce, { handleSignals: false });
    const consume = consumer({
      name: 'order-consumer',
      connectors: { input: createJsonLinesConnector<{ order: number }>({ path }) },
      policies: { consumer: new ConsumerPolicy({ mode: 'batch' }) },
      processTransaction: (tx: Transaction<{ order: number }>) => tx.payload.order,
    });
    await runTask(consume, { handleSignals: false });
    await telemetry?.flush();
    const transactions = byName('ergon.transaction');
    const produced = transactions.find((s) => s.attributes['ergon.task.name'] === 'order-producer');
    const consumed = transactions.find((s) => s.attributes['ergon.task.name'] === 'order-consumer');
    expect(produced && consumed).toBeTruthy();
    expect(consumed?.spanContext().traceId).toBe(produced?.spanContext().traceId);
  });

  it('fixes the attribute keys of the task metrics', async () => {
    await reader.forceFlush();
    const keys = new Map<string, Set<string>>();
    for (const batch of metricExporter.getMetrics()) {
      for (const scope of batch.scopeMetrics) {
        if (scope.scope.name !== '@ergon/tasks') continue;
        for (const metric of scope.metrics) {
          const set = keys.get(metric.descriptor.name) ?? new Set<string>();
          for (const point of metric.dataPoints) for (const k of Object.keys(point.attributes)) set.add(k);
          keys.set(metric.descriptor.name, set);
        }
      }
    }
    expect([...keys.keys()].sort()).toEqual(['ergon.transaction.duration', 'ergon.transactions']);
    for (const [name, set] of keys)
      expect([...set].sort(), name).toEqual(['ergon.outcome', 'ergon.task.name']);
  });
});
