// Policies and task definitions are validated when they are made, with typed
// errors; dependencies arrive typed and started.
import { ErrorCode, type HealthStatus, RetryPolicy, type Service, type Transaction } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import {
  ConsumerPolicy,
  consumer,
  hybrid,
  ProducerPolicy,
  producer,
  runTask,
  type Task,
  threadWork,
} from '../src/index.js';
import { MemoryConnector } from './support/memory-connector.js';

const invalid = expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT });

describe('policies', () => {
  it('have safe defaults: finite retries, bounded concurrency, no busy loop', () => {
    const p = ConsumerPolicy.DEFAULT;
    expect(p).toMatchObject({
      mode: 'continuous',
      concurrency: 4,
      batchSize: 10,
      streaming: true,
      onFailure: 'dead-letter',
    });
    expect(p.emptyQueue).toEqual({ initialDelay: 100, multiplier: 2, maxDelay: 5000 });
    for (const retry of Object.values(p.retry)) expect(Number.isFinite(retry.maxAttempts)).toBe(true);
    expect(Object.isFrozen(p)).toBe(true);
    expect(ProducerPolicy.DEFAULT).toMatchObject({ concurrency: 4, batchSize: 10 });
    const json = JSON.parse(JSON.stringify(new ConsumerPolicy({ limit: 3, timeout: '2s' })));
    expect(json).toMatchObject({ limit: 3, timeout: 2000 });
  });

  it('refuse bad values at construction', () => {
    const bad: (() => unknown)[] = [
      () => new ConsumerPolicy({ concurrency: 0 }),
      () => new ConsumerPolicy({ batchSize: 1.5 }),
      () => new ConsumerPolicy({ mode: 'sometimes' as 'batch' }),
      () => new ConsumerPolicy({ limit: -1 }),
      () => new ConsumerPolicy({ streaming: 'yes' as unknown as boolean }),
      () => new ConsumerPolicy({ emptyQueue: { initialDelay: 0 } }),
      () => new ConsumerPolicy({ emptyQueue: { multiplier: 0.5 } }),
      () => new ConsumerPolicy({ emptyQueue: { initialDelay: '2s', maxDelay: '1s' } }),
      () => new ConsumerPolicy({ retry: { process: { maxAttempts: 3 } as unknown as RetryPolicy } }),
      () => new ConsumerPolicy({ retry: { prepare: RetryPolicy.NONE } as never }),
      () => new ConsumerPolicy({ onFailure: 'drop' as 'requeue' }),
      () => new ProducerPolicy({ concurrency: -2 }),
      () => new ProducerPolicy({ timeout: 0 }),
    ];
    for (const make of bad) expect(make).toThrow(invalid);
    expect(() => new ConsumerPolicy({ timeout: 'soon' })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_DURATION }),
    );
  });
});

describe('task definitions', () => {
  const input = new MemoryConnector();
  it('refuse malformed definitions with INVALID_ARGUMENT', () => {
    const bad: (() => unknown)[] = [
      () => consumer({ name: 'has space', connectors: { input }, processTransaction: () => 1 }),
      () => consumer({ name: 'x', connectors: {}, processTransaction: () => 1 }),
      () =>
        consumer({
          name: 'x',
          connectors: { input },
          source: 'nope' as 'input',
          processTransaction: () => 1,
        }),
      () => consumer({ name: 'x', connectors: { input }, processTransaction: 42 as never }),
      () => consumer({ name: 'x', connectors: { input }, model: 'threaded', processTransaction: () => 1 }),
      () =>
        consumer({
          name: 'x',
          connectors: { input },
          processTransaction: threadWork('./w.js'),
          model: 'async',
        }),
      () =>
        consumer({
          name: 'x',
          connectors: { input },
          policies: { consumer: {} },
          processTransaction: () => 1,
        }),
      () =>
        consumer({
          name: 'x',
          connectors: { input },
          services: { s: {} as Service },
          processTransaction: () => 1,
        }),
      () => hybrid({ name: 'x', connectors: { input }, processTransaction: () => [] }),
      () =>
        producer({
          name: 'x',
          connectors: { output: input },
          items: 3 as never,
          prepareTransaction: () => 1,
        }),
      () =>
        producer({
          name: 'x',
          connectors: { output: { name: 'read-only' } },
          items: () => [],
          prepareTransaction: () => 1,
        }),
      () => threadWork('./w.js', 'not an identifier'),
    ];
    for (const make of bad) expect(make).toThrow(invalid);
  });

  it('injects declared connectors, services and policies, typed, and starts/stops services around a run', async () => {
    const calls: string[] = [];
    class Geo implements Service {
      readonly name = 'geo';
      async start() {
        calls.push('start');
      }
      async stop() {
        calls.push('stop');
      }
      async health(): Promise<HealthStatus> {
        return { healthy: true };
      }
      locate(city: string): number {
        return city.length;
      }
    }
    const source = new MemoryConnector<{ city: string }>();
    source.push({ city: 'Lyon' });
    const task = consumer({
      name: 'di',
      connectors: { input: source },
      services: { geo: new Geo() },
      policies: { consumer: new ConsumerPolicy({ mode: 'batch' }), pricing: { rate: 3 } },
      processTransaction: (tx: Transaction<{ city: string }>, ctx) => {
        calls.push(
          `process ${ctx.task} ${ctx.connectors.input.name} ${ctx.worker.index}/${ctx.worker.count}`,
        );
        return ctx.services.geo.locate(tx.payload.city) * ctx.policies.pricing.rate;
      },
      handleSuccess: (_tx, result) => void calls.push(`result ${result}`),
    });
    const general: Task = task;
    expect(general.kind).toBe('consumer');
    expect(Object.isFrozen(task)).toBe(true);
    await runTask(task, { handleSignals: false });
    expect(calls).toEqual(['start', 'process di memory 0/1', 'result 12', 'stop']);
  });
});
