// The runtime wrapper's checks of flow control: typed errors at creation, and no option
// silently ignored by a store that cannot keep it.
import { describe, expect, it } from 'vitest';
import type { NewFlow } from '../flows.js';
import { InMemoryExecutionLog } from '../in-memory.js';
import { runtimeStore } from './runtime-store.js';

class WithoutFlowControl extends InMemoryExecutionLog {
  override readonly capabilities = Object.freeze({ events: true });
}

const base: NewFlow = { id: 'f', type: 't', queue: 'q', input: '[]', priority: 0, runAt: 0, now: 0 };

describe('flow control in the runtime wrapper', () => {
  it('refuses malformed flow options with INVALID_FLOW_CONTROL before the store sees them', async () => {
    const store = runtimeStore(new InMemoryExecutionLog());
    const bad: Partial<NewFlow>[] = [
      { concurrencyKey: 'k', concurrencyLimit: -1 },
      { concurrencyLimit: 2 },
      { dedup: { key: 'k', forMs: 0 } },
      { debounce: { key: 'k', delayMs: 100, maxWaitMs: 50 } },
      { debounce: { key: 'k', delayMs: 10 }, dedup: { key: 'k' } },
    ];
    for (const extra of bad) {
      await expect(store.createFlow({ ...base, ...extra })).rejects.toMatchObject({
        code: 'INVALID_FLOW_CONTROL',
      });
    }
    expect(await store.getFlow('f')).toBeUndefined();
  });

  it('refuses flow control on a store without it, and reports no limits there', async () => {
    const store = runtimeStore(new WithoutFlowControl());
    expect(store.capabilities.flowControl).toBe(false);
    await expect(store.createFlow({ ...base, concurrencyKey: 'k' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      store.configureQueue({ queue: 'q', limits: { concurrency: 1 }, now: 0 }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await store.getQueueState({ queue: 'q', now: 0 })).toEqual({
      running: 0,
      keyRunning: 0,
      recentStarts: 0,
    });
    expect((await store.createFlow(base)).created).toBe(true);
  });
});
