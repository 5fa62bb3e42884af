// `flows show` and `flows list` say why a flow that could run is not running yet (flow control).
import { join } from 'node:path';
import { runtimeStore } from '@ergon/core';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { ergon, json, tempDir } from './testing/cli.js';

const tmp = tempDir('ergon-cli-fc-');
afterAll(() => tmp.remove());

describe('flows waiting on flow control', () => {
  it('shows the limit a ready flow waits on, in words and in JSON', async () => {
    const path = join(tmp.dir, 'fc.db');
    const store = runtimeStore(await SqliteExecutionLog.open({ path }));
    const client = new Client({ store });
    await client.queues.configure('mail', { concurrency: 1 });
    const first = await client.schedule('send-mail', { to: 'a' }, { queue: 'mail' });
    const second = await client.schedule('send-mail', { to: 'b' }, { queue: 'mail' });
    const debounced = await client.schedule(
      'send-mail',
      { to: 'c' },
      { queue: 'mail', debounce: { key: 'c', delay: '1h' } },
    );
    // Hold the queue's one slot, as a worker would.
    const [held] = await store.claim({
      workerId: 'w',
      types: ['send-mail'],
      queues: ['mail'],
      limit: 1,
      leaseMs: 600_000,
      now: Date.now(),
    });
    expect(held?.flow.id).toBe(first.id);
    await store.close();

    const show = await ergon(['--store', `sqlite:${path}`, 'flows', 'show', second.id]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/waiting for\s+the queue's concurrency limit/);
    const list = json<{ flows: { id: string; waitingFor?: string }[] }>(
      await ergon(['--store', `sqlite:${path}`, 'flows', 'list', '--json']),
    );
    const reasons = Object.fromEntries(list.flows.map((f) => [f.id, f.waitingFor]));
    expect(reasons).toEqual({
      [first.id]: undefined,
      [second.id]: 'queue-concurrency',
      [debounced.id]: 'debounce',
    });
    const table = await ergon(['--store', `sqlite:${path}`, 'flows', 'list']);
    expect(table.stdout).toMatch(/pending \(queue-concurrency\)/);
  });

  it("sets, shows and clears a queue's limits with ergon queues, refusing bad ones", async () => {
    const store = `sqlite:${join(tmp.dir, 'queues.db')}`;
    const set = await ergon([
      '--store',
      store,
      'queues',
      'set',
      'api',
      '--concurrency',
      '4',
      '--rate',
      '100/1m',
      '--weight',
      'gold=3',
    ]);
    expect(set.code, set.stderr).toBe(0);
    const shown = json<{
      limits: {
        concurrency: number;
        rate: { limit: number; periodMs: number };
        keyWeights: Record<string, number>;
      };
    }>(await ergon(['--store', store, 'queues', 'show', 'api', '--json']));
    expect(shown.limits).toEqual({
      concurrency: 4,
      rate: { limit: 100, periodMs: 60_000 },
      keyWeights: { gold: 3 },
    });
    const text = await ergon(['--store', store, 'queues', 'show', 'api']);
    expect(text.stdout).toMatch(/concurrency\s+4/);
    const bad = await ergon(['--store', store, 'queues', 'set', 'api', '--rate', '0/1m']);
    expect(bad.code).toBe(2);
    const none = await ergon(['--store', store, 'queues', 'set', 'api']);
    expect(none.code).toBe(2);
    expect((await ergon(['--store', store, 'queues', 'clear', 'api'])).code).toBe(0);
    const cleared = json<{ limits?: unknown }>(
      await ergon(['--store', store, 'queues', 'show', 'api', '--json']),
    );
    expect(cleared.limits).toBeUndefined();
  });
});
