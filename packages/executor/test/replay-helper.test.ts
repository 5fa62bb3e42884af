import { expectDiverges, expectReplays } from '@ergon/testing';
import { describe, expect, it } from 'vitest';
import { replayCheck } from '../src/index.js';
import { bodiesRun, touched, v1, v2 } from './replay-check-flows.js';
import { harness, until } from './support.js';

describe('expectReplays / expectDiverges (@ergon/testing)', () => {
  const h = harness();

  it('pass on compatible code, name the divergent flows otherwise, and run no step body', async () => {
    for (let n = 0; n < 12; n++) await h.client.schedule('orders', n, { flowId: `helper-${n}` });
    h.startWorker(v1);
    await until(
      async () => (await h.client.list({ status: ['pending', 'running'], limit: 1 })).flows.length === 0,
      30_000,
      'the orders to settle',
    );
    const ran = bodiesRun();
    const report = await expectReplays(replayCheck, { store: h.store, flows: v1 });
    expect(report.checked).toBeGreaterThanOrEqual(12);
    const touchedIds = Array.from({ length: 12 }, (_, n) => n)
      .filter(touched)
      .map((n) => `helper-${n}`);
    await expectDiverges(replayCheck, { store: h.store, flows: v2, type: 'orders' }, touchedIds);
    // The failure names each divergent flow with both keys.
    const failure = await expectReplays(replayCheck, { store: h.store, flows: v2, type: 'orders' }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).toMatch(/do not replay on this code/);
    expect(failure?.message).toMatch(
      /flow helper-0: at position 1 history recorded run 'reserve#0' but the code calls run 'charge#0'/,
    );
    expect(bodiesRun()).toBe(ran);
  });
});
