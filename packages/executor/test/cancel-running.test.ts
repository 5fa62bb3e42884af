// Cancelling a running flow: the reason survives, the holder hears at once, the flow ends when its attempts settle.
import { describe, expect, it } from 'vitest';
import { FlowCancelledError, flow } from '../src/index.js';
import { harness, until } from './support.js';

describe('cancelling a running flow', () => {
  const h = harness();

  /** A flow whose one step runs until its signal aborts (and records when it started). */
  function abortable(name: string) {
    const state = { started: false, aborted: false };
    const definition = flow(name, async (ctx) => {
      await ctx.run('work', (scope) => {
        state.started = true;
        return new Promise<never>((_, reject) => {
          scope.signal.addEventListener('abort', () => {
            state.aborted = true;
            reject(scope.signal.reason);
          });
        });
      });
      return 'not cancelled';
    });
    return { definition, state };
  }

  it('keeps the reason given to cancel, as a suspended flow does', async () => {
    const { definition, state } = abortable('cancel-reason');
    h.startWorker([definition]);
    const handle = await h.client.schedule(definition, undefined);
    await until(() => state.started, 10_000, 'the step to start');
    await h.client.cancel(handle.id, 'fraud detected');
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlowCancelledError);
    expect(error).toMatchObject({ code: 'FLOW_CANCELLED', reason: 'fraud detected', flowId: handle.id });
    expect((error as Error).message).toContain('fraud detected');
    expect(state.aborted).toBe(true);
    expect((await handle.get()).status).toBe('cancelled');
  });

  it('is heard by the holding worker through a store event, long before its next heartbeat', async () => {
    const { definition, state } = abortable('cancel-fast');
    // Default lease (15 s): the heartbeat comes every 5 s, so only the store event can be this quick.
    h.startWorker([definition], { lease: '15s' });
    const handle = await h.client.schedule(definition, undefined);
    await until(() => state.started, 10_000, 'the step to start');
    const cancelledAt = Date.now();
    await h.client.cancel(handle.id, 'stop now');
    await expect(handle.result()).rejects.toBeInstanceOf(FlowCancelledError);
    // Not a speed target (apps/bench has cancel-latency): it shows the event path works, as a heartbeat
    // (5 s) or the old fixed 1 s drain could not finish in this time.
    expect(Date.now() - cancelledAt).toBeLessThan(900);
  });

  it('waits for an attempt that ignores its signal only for a grace period, then ends cancelled', async () => {
    let started = false;
    const stubborn = flow('cancel-stubborn', async (ctx) => {
      await ctx.run('ignore-signal', async () => {
        started = true;
        await new Promise((resolve) => setTimeout(resolve, 5000));
      });
    });
    h.startWorker([stubborn]);
    const handle = await h.client.schedule(stubborn, undefined);
    await until(() => started, 10_000, 'the step to start');
    await h.client.cancel(handle.id, 'no patience');
    await expect(handle.result({ timeout: '4s' })).rejects.toMatchObject({ code: 'FLOW_CANCELLED', reason: 'no patience' });
  });
});
