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
});
