/**
 * The end of a flow claimed through this connection goes by its row key (`src/internal/held-flows.ts`);
 * what the connection remembers is a hint: the statement still checks the token and the status.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewFlow } from '@ergon/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteExecutionLog } from '../src/index.js';

const T0 = Date.UTC(2030, 0, 1);
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openTwo(): Promise<[SqliteExecutionLog, SqliteExecutionLog]> {
  const path = join(tmpdir(), `ergon-held-${randomUUID()}.db`);
  cleanups.push(() => {
    for (const suffix of ['', '-wal', '-shm', '-ergon-wake']) rmSync(path + suffix, { force: true });
  });
  const a = await SqliteExecutionLog.open({ path });
  cleanups.push(() => a.close());
  const b = await SqliteExecutionLog.open({ path });
  cleanups.push(() => b.close());
  return [a, b];
}

const newFlow = (id: string, extra: Partial<NewFlow> = {}): NewFlow => ({
  id,
  type: 'order',
  queue: 'q',
  input: '1',
  priority: 0,
  runAt: T0,
  now: T0,
  ...extra,
});

const claim = (store: SqliteExecutionLog, now: number) =>
  store.claim({ workerId: `w-${now}`, types: ['order'], queues: ['q'], limit: 5, leaseMs: 1000, now });

describe('SqliteExecutionLog held flows', () => {
  it('refuses the end of a flow claimed here once another connection took it over (same token remembered)', async () => {
    const [a, b] = await openTwo();
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
