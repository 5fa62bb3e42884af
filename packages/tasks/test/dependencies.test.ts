// A start given up on: the run's signal aborts while a connector is still
// starting (a SIGTERM at start-up). The run ends, and the connector is stopped
// too, so what its start was still opening gets closed.
import { ErrorCode, RetryPolicy } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { ConsumerPolicy, consumer, runTask } from '../src/index.js';
import { MemoryConnector } from './support/memory-connector.js';

/** A connector whose start opens a "connection" that only `stop` closes, and that waits until told. */
class SlowStart extends MemoryConnector<{ n: number }> {
  open = false;
  stops = 0;
  release: () => void = () => {};

  async start(signal?: AbortSignal): Promise<void> {
    this.open = true;
    const opened = new Promise<void>((resolve) => {
      this.release = resolve;
    });
    await new Promise<void>((resolve, reject) => {
      opened.then(resolve);
      signal?.addEventListener('abort', () => reject(new Error('start aborted')), { once: true });
    });
  }

  async stop(): Promise<void> {
    this.stops++;
    this.open = false;
  }
}

describe('dependencies', () => {
  it('stops a connector whose start was given up on, so nothing it opened is left open', async () => {
    const input = new SlowStart();
    const quick = new RetryPolicy({ maxAttempts: 1 });
    const task = consumer({
      name: 'slow-start',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ retry: { process: quick, success: quick, exception: quick } }) },
      processTransaction: async () => undefined,
    });
    const abort = new AbortController();
    const run = runTask(task, { handleSignals: false, signal: abort.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(input.open).toBe(true);
    abort.abort();
    const summary = await run;
    expect(summary.reason).toBe('failed');
    expect(summary.error).toMatchObject({ code: ErrorCode.CONNECTOR_ERROR });
    expect(input.stops).toBe(1);
    expect(input.open, 'closed by stop').toBe(false);
  });
});
