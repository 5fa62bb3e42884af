/**
 * A create that files its flow straight in its ready set (due now, no flow control, no debounce)
 * sends no flow back: the store makes the record from the request (internal/flows.ts, sentFlow).
 * It is the flow as stored, with or without optional fields.
 */
import { describe, expect, it } from 'vitest';
import { newFlow, storeFixture } from './fixture.js';
import { redisAvailable } from './support.js';

const T0 = Date.UTC(2030, 0, 1);

// Service guard (support.ts): under CI=true a missing Redis fails the run; elsewhere this suite is skipped loudly.
describe.skipIf(!redisAvailable)('RedisExecutionLog create replies', () => {
  const stores = storeFixture();

  it('returns the stored flow for a create filed straight in its ready set', async () => {
    const store = await stores.open();
    const flows = [
      newFlow(T0),
      { ...newFlow(T0, { priority: -3, runAt: T0 - 5 }), parentId: 'f-parent', traceContext: '00-t-01' },
      { ...newFlow(T0), dedup: { key: 'd1' } },
    ];
    for (const f of flows) {
      const { flow, created } = await store.createFlow(f);
      expect(created).toBe(true);
      expect(flow).toEqual(await store.getFlow(f.id));
    }
  });
});
