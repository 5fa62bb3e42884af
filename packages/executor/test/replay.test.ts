import { ErrorCode, NonRetryableError, RetryPolicy } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { Client, Executor, flow, NonDeterminismError, step } from '../src/index.js';
import { freezable, harness, until } from './support.js';

describe('replay', () => {
  const h = harness();

  it('resumes a 5-step flow interrupted after each step; each body runs exactly once', async () => {
    const runs = [0, 0, 0, 0, 0];
    const five = flow('five', async (ctx) => {
      let total = 0;
      for (let i = 0; i < 5; i++) {
        total += await ctx.run(`s${i}`, () => {
          runs[i] = (runs[i] ?? 0) + 1;
          return i;
        });
      }
      return total;
    });
    const handle = await h.client.schedule(five, undefined);
    // Worker k dies right after recording step k; worker k+1 takes over after the lease. The lease
    // is long enough that a live worker keeps it on a loaded machine (at 100 ms, a CI run at load 15
    // let it lapse between a step's body and its record, and the same worker ran the body again).
    for (let k = 0; k < 4; k++) {
      const dying = freezable(h.store, { freezeAfterRecord: (p) => p === k });
      h.startWorker([five], { store: dying.store, lease: '400ms', id: `dies-after-${k}` });
      await until(() => dying.frozen, 5000, `worker ${k} to die`);
      expect(runs.slice(0, k + 1)).toEqual(Array(k + 1).fill(1));
    }
    h.startWorker([five], { lease: '400ms', id: 'survivor' });
    expect(await handle.result()).toBe(10);
    expect(runs).toEqual([1, 1, 1, 1, 1]);
    const info = await handle.get();
    // Five runs at least; a loaded machine may let a short lease lapse once more mid-run.
    expect(info.runCount).toBeGreaterThanOrEqual(5);
    expect(info.history.map((e) => e.key)).toEqual(['s0#0', 's1#0', 's2#0', 's3#0', 's4#0']);
  });

  it('fails with NonDeterminismError naming the position and both keys when a step is renamed', async () => {
    const v1 = flow('evolving', async (ctx) => {
      await ctx.run('charge', () => 1);
      await ctx.sleep('1h');
      return 'v1';
    });
    const v2 = flow('evolving', async (ctx) => {
      await ctx.run('charge-card', () => 1);
      await ctx.sleep('1h');
      return 'v2';
    });
    const first = await new Executor({ store: h.store, clock: h.clock }).execute(v1, undefined, {
      flowId: 'evolve-1',
    });
    expect(first.status).toBe('suspended');
    // Run the new code against the recorded history once the timer is due.
    const flowRecord = await h.store.getFlow('evolve-1');
    expect(flowRecord?.status).toBe('suspended');
    const later = new Executor({
      store: h.store,
      flows: [v2],
      clock: { now: () => Date.now() + 3_600_001, sleep: h.clock.sleep },
    });
    const outcome = await later.resume('evolve-1');
    expect(outcome.status).toBe('failed');
    const error = outcome.status === 'failed' ? outcome.error : undefined;
    expect(error).toBeInstanceOf(NonDeterminismError);
    expect(error).toMatchObject({
      code: ErrorCode.NON_DETERMINISM,
      position: 0,
      recordedKey: 'charge#0',
      recordedKind: 'run',
      calledKey: 'charge-card#0',
      calledKind: 'run',
    });
    expect(error?.message).toMatch(/position 0.*run 'charge#0'.*run 'charge-card#0'/);
    // One key format everywhere: the error names the key exactly as history (and the CLI) shows it.
    const history = (await new Client({ store: h.store }).get('evolve-1')).history;
    expect(history[0]?.key).toBe((error as NonDeterminismError).recordedKey);
  });

  it('fails with NonDeterminismError when steps are reordered, even if the flow catches it', async () => {
    const v1 = flow('reorder', async (ctx) => {
      await ctx.run('a', () => 1);
      await ctx.run('b', () => 2);
      await ctx.sleep('1h');
    });
    const v2 = flow('reorder', async (ctx) => {
      try {
        await ctx.run('b', () => 2);
        await ctx.run('a', () => 1);
      } catch {
        return 'swallowed';
      }
    });
    await new Executor({ store: h.store }).execute(v1, undefined, { flowId: 'reorder-1' });
    const outcome = await new Executor({
      store: h.store,
      flows: [v2],
      clock: { now: () => Date.now() + 3_600_001, sleep: h.clock.sleep },
    }).resume('reorder-1');
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'NON_DETERMINISM', position: 0 } });
    expect((await h.store.getFlow('reorder-1'))?.status).toBe('failed');
  });

  it('runs the same step twice when called twice with identical arguments', async () => {
    let calls = 0;
    const poll = step('poll', async (_url: string) => ++calls);
    const twice = flow('twice', async (ctx) => [await ctx.step(poll, 'x'), await ctx.step(poll, 'x')]);
    h.startWorker([twice]);
    const handle = await h.client.schedule(twice, undefined);
    expect(await handle.result()).toEqual([1, 2]);
    expect((await handle.get()).history.map((e) => e.key)).toEqual(['poll#0', 'poll#1']);
  });

  it('records now, random and uuid so replay sees the same values', async () => {
    const values = flow('values', async (ctx) => {
      const v = [(await ctx.now()).getTime(), await ctx.random(), await ctx.uuid()];
      await ctx.sleep('30ms');
      return [...v, (await ctx.now()).getTime(), await ctx.random(), await ctx.uuid()];
    });
    h.startWorker([values]);
    const handle = await h.client.schedule(values, undefined);
    const result = (await handle.result()) as [number, number, string, number, number, string];
    const history = (await handle.get()).history;
    expect(history.slice(0, 3).map((e) => e.result)).toEqual([result[0], result[1], result[2]]);
    expect(result[3] - result[0]).toBeGreaterThanOrEqual(30);
    expect(result[2]).not.toBe(result[5]);
  });
});

describe('retries', () => {
  const h = harness();

  it('stops a non-retryable error after one attempt and rethrows it on replay with the same class and code', async () => {
    let attempts = 0;
    const seen: string[] = [];
    const reject = step('reject', async () => {
      attempts++;
      throw new NonRetryableError('card declined', { details: { reason: 'funds' } });
    });
    const f = flow('declines', async (ctx) => {
      try {
        await ctx.step(reject);
      } catch (error) {
        seen.push(
          `${(error as Error).constructor.name}/${(error as NonRetryableError).code}/${error instanceof NonRetryableError}`,
        );
      }
      await ctx.sleep('20ms'); // forces a second activation that replays the failure
      return seen.length;
    });
    h.startWorker([f]);
    const handle = await h.client.schedule(f, undefined);
    expect(await handle.result()).toBe(2);
    expect(attempts).toBe(1);
    expect(seen).toEqual(['NonRetryableError/NON_RETRYABLE/true', 'NonRetryableError/NON_RETRYABLE/true']);
    const [entry] = (await handle.get()).history;
    expect(entry).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('follows the policy for retryable errors and records the attempts', async () => {
    let attempts = 0;
    const flaky = step(
      'flaky',
      async () => {
        if (++attempts < 4) throw new Error(`try ${attempts}`);
        return 'ok';
      },
      { retry: new RetryPolicy({ maxAttempts: 4, initialDelay: 2, multiplier: 2 }) },
    );
    const exhausted = step(
      'exhausted',
      async () => {
        throw new Error('always');
      },
      { retry: new RetryPolicy({ maxAttempts: 3, initialDelay: 1 }) },
    );
    const f = flow('retrying', async (ctx) => {
      const first = await ctx.step(flaky);
      try {
        await ctx.step(exhausted);
      } catch (error) {
        return `${first}/${(error as Error).message}`;
      }
    });
    h.startWorker([f]);
    const handle = await h.client.schedule(f, undefined);
    expect(await handle.result()).toBe('ok/always');
    const history = (await handle.get()).history;
    expect(history.map((e) => [e.key, e.status, e.attempts])).toEqual([
      ['flaky#0', 'completed', 4],
      ['exhausted#0', 'failed', 3],
    ]);
  });

  it('aborts the signal of an attempt that runs past its timeout', async () => {
    let aborted: unknown;
    const slow = step(
      'slow',
      (s) =>
        new Promise((resolve) => {
          s.signal.addEventListener('abort', () => {
            aborted = s.signal.reason;
            resolve('late');
          });
        }),
      { timeout: '30ms', retry: RetryPolicy.NONE },
    );
    const f = flow('timeouts', async (ctx) => {
      try {
        await ctx.step(slow);
        return 'no timeout';
      } catch (error) {
        return (error as { code: string }).code;
      }
    });
    h.startWorker([f]);
    expect(await (await h.client.schedule(f, undefined)).result()).toBe('STEP_TIMEOUT');
    expect(aborted).toMatchObject({ code: 'STEP_TIMEOUT' });
  });

  it('gives every attempt a stable idempotency key and its attempt number', async () => {
    const keys: string[] = [];
    const s = step(
      'keyed',
      async (scope) => {
        keys.push(`${scope.idempotencyKey}@${scope.attempt}`);
        if (scope.attempt < 2) throw new Error('again');
        return 1;
      },
      { retry: new RetryPolicy({ maxAttempts: 2 }) },
    );
    const f = flow('keys', async (ctx) => ctx.step(s));
    h.startWorker([f]);
    const handle = await h.client.schedule(f, undefined, { flowId: 'idem-1' });
    await handle.result();
    expect(keys).toEqual(['idem-1/keyed#0@1', 'idem-1/keyed#0@2']);
  });
});

describe('durable backoff', () => {
  const h = harness({ fake: true });

  it('suspends on a backoff of an hour and resumes it via the clock', async () => {
    let attempts = 0;
    const s = step(
      'hourly',
      async () => {
        if (++attempts === 1) throw new Error('not yet');
        return 'done';
      },
      { retry: new RetryPolicy({ maxAttempts: 2, initialDelay: '1h' }) },
    );
    const f = flow('backoff', async (ctx) => ctx.step(s));
    h.startWorker([f]);
    const handle = await h.client.schedule(f, undefined);
    await until(async () => (await handle.status()) === 'suspended');
    const info = await handle.get();
    expect(info.history[0]).toMatchObject({ status: 'waiting', attempts: 1 });
    expect(info.waits).toEqual([{ kind: 'timer', at: h.clock.now() + 3_600_000, position: 0 }]);
    h.fakeClock.advance(3_599_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(await handle.status()).toBe('suspended');
    h.fakeClock.advance(1000);
    expect(await handle.result()).toBe('done');
    expect(attempts).toBe(2);
    expect((await handle.get()).history[0]).toMatchObject({ status: 'completed', attempts: 2 });
  });
});
