/**
 * The end of a flow claimed through this connection goes by its row key (`src/internal/held-flows.ts`);
 * what the connection remembers is a hint: the statement still checks the token and the status.
 */
import { describe, expect, it } from 'vitest';
import type { SqliteExecutionLog } from '../src/index.js';
import { newFlow, T0, tempStores } from './support.js';

const stores = tempStores('held');

const claim = (store: SqliteExecutionLog, now: number) =>
  store.claim({ workerId: `w-${now}`, types: ['order'], queues: ['q'], limit: 5, leaseMs: 1000, now });

describe('SqliteExecutionLog held flows', () => {
  it('refuses the end of a flow claimed here once another connection took it over (same token remembered)', async () => {
    const [a, b] = (await stores.open(2)) as [SqliteExecutionLog, SqliteExecutionLog];
    await a.createFlow(newFlow('f'));
    const [mine] = await claim(a, T0);
    if (!mine) throw new Error('expected a claimed flow');
    // The lease expires; the other connection claims the flow again.
    const [theirs] = await claim(b, T0 + 5000);
    expect(theirs?.token).toBe(mine.token + 1);
    const late = a.finishFlow({ flowId: 'f', token: mine.token, status: 'completed', now: T0 + 6000 });
    await expect(late).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect((await a.getFlow('f'))?.status).toBe('running');
    await b.finishFlow({
      flowId: 'f',
      token: mine.token + 1,
      status: 'completed',
      result: '2',
      now: T0 + 6000,
    });
    expect((await a.getFlow('f'))?.result).toBe('2');
  });
});
