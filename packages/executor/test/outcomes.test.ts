// What Executor.execute/resume report: a union a caller can act on (issue "the engine's face", items 1 and 2).
import { ErrorCode, type ExecutionLog, LeaseLostError, NonRetryableError } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { Executor, FlowCancelledError, type FlowOutcome, flow } from '../src/index.js';
import { harness, until } from './support.js';

describe('Executor outcomes', () => {
  const h = harness();

  it('returns the recorded outcome of a finished flow without running anything again', async () => {
    let runs = 0;
    const counted = flow('counted', async (ctx, n: number) => {
      const doubled = await ctx.run('double', () => {
        runs++;
        return n * 2;
      });
      return { doubled };
    });
    const executor = new Executor({ store: h.store });
    const first = await executor.execute(counted, 21, { flowId: 'done-once' });
    expect(first).toEqual({ status: 'completed', result: { doubled: 42 }, replayed: false });
    const again = await executor.execute(counted, 21, { flowId: 'done-once' });
    expect(again).toEqual({ status: 'completed', result: { doubled: 42 }, replayed: true });
    expect(await executor.resume('done-once')).toEqual(again);
    expect(runs).toBe(1);
  });

  it('returns the recorded error of a failed flow, same class and code, without running it again', async () => {
    let runs = 0;
    const failing = flow('failing', async (ctx) => {
      await ctx.run('refuse', () => {
        runs++;
        throw new NonRetryableError('card declined');
      });
    });
    const executor = new Executor({ store: h.store });
    const first = await executor.execute(failing, undefined, { flowId: 'fails-once' });
    const again = await executor.execute(failing, undefined, { flowId: 'fails-once' });
    for (const outcome of [first, again]) {
      expect(outcome.status).toBe('failed');
      const error = outcome.status === 'failed' ? outcome.error : undefined;
      expect(error).toBeInstanceOf(NonRetryableError);
      expect(error).toMatchObject({ code: ErrorCode.NON_RETRYABLE, message: 'card declined' });
    }
    expect(again).toMatchObject({ replayed: true });
    expect(runs).toBe(1);
  });

  it('returns the recorded cancellation with its reason', async () => {
    const waits = flow('waits-for-approval', async (ctx) => ctx.waitForSignal('approval'));
    const executor = new Executor({ store: h.store });
    expect((await executor.execute(waits, undefined, { flowId: 'to-cancel' })).status).toBe('suspended');
    await h.client.cancel('to-cancel', 'order withdrawn');
    const outcome = await executor.execute(waits, undefined, { flowId: 'to-cancel' });
    expect(outcome.status).toBe('cancelled');
    const error = outcome.status === 'cancelled' ? outcome.error : undefined;
    expect(error).toBeInstanceOf(FlowCancelledError);
    expect(error?.reason).toBe('order withdrawn');
  });

  it('says a suspended flow waits, and on what', async () => {
    const waits = flow('waits-named', async (ctx) => ctx.waitForSignal('go'));
    const executor = new Executor({ store: h.store, flows: [waits] });
    await executor.execute(waits, undefined, { flowId: 'waiting' });
    const outcome = await executor.resume('waiting');
    expect(outcome).toEqual({ status: 'suspended', waits: [{ kind: 'signal', name: 'go', position: 0 }] });
  });

  it('says when a flow is not due yet, and when it will be', async () => {
    const later = flow('later', async () => 'ran');
    const executor = new Executor({ store: h.store, flows: [later] });
    const handle = await h.client.schedule(later, undefined, { flowId: 'not-yet', delay: '1h' });
    const outcome = await executor.resume(handle.id);
    expect(outcome.status).toBe('not-due');
    const info = await handle.get();
    expect(outcome).toEqual({ status: 'not-due', runAt: info.runAt });
    expect(info.status).toBe('pending');
  });

  it('names the worker that holds a running flow and when its lease ends', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    const slow = flow('slow', async (ctx) => {
      await ctx.run('hold', async () => {
        started = true;
        await held;
      });
      return 'finished';
    });
    h.startWorker([slow], { id: 'holder', lease: '30s' });
    const handle = await h.client.schedule(slow, undefined, { flowId: 'held' });
    await until(() => started, 10_000, 'the worker to start the flow');
    const outcome = await new Executor({ store: h.store, flows: [slow] }).resume('held');
    expect(outcome.status).toBe('running-elsewhere');
    const info = await handle.get();
    expect(outcome).toEqual({
      status: 'running-elsewhere',
      leaseOwner: 'holder',
      leaseExpiresAt: info.leaseExpiresAt,
    });
    release();
    expect(await handle.result()).toBe('finished');
  });

  it('reports a lease lost mid-run as abandoned with LEASE_LOST; the flow completes once elsewhere', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let bodies = 0;
    const paused = flow('paused', async (ctx) => {
      await ctx.run('pause', async () => {
        bodies++;
        if (bodies === 1) await held; // a GC pause: no heartbeat reaches the store meanwhile
      });
      return 'done';
    });
    const mute = withoutHeartbeats(h.store);
    const first = new Executor({ store: mute, flows: [paused], lease: '300ms' });
    const running = first.execute(paused, undefined, { flowId: 'taken-over' });
    await until(() => bodies === 1, 10_000, 'the first run to pause');
    await new Promise((resolve) => setTimeout(resolve, 400)); // its lease expires
    const second = await new Executor({ store: h.store, flows: [paused] }).resume('taken-over');
    expect(second).toMatchObject({ status: 'completed', result: 'done', replayed: false });
    release();
    const outcome: FlowOutcome = await running;
    expect(outcome.status).toBe('abandoned');
    const error = outcome.status === 'abandoned' ? outcome.error : undefined;
    expect(error).toBeInstanceOf(LeaseLostError);
    expect(error).toMatchObject({ code: ErrorCode.LEASE_LOST, flowId: 'taken-over' });
    expect((await h.client.get('taken-over')).history).toHaveLength(1);
  });
});

/** The store as seen by a process whose heartbeats never arrive. */
function withoutHeartbeats(store: ExecutionLog): ExecutionLog {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'renewLease') return () => new Promise(() => {});
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
