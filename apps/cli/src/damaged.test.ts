// `flows list` and `flows show` on a store in trouble: a damaged flow record
// does not hide the others, and a flow whose runs were given up on says why.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { defaultCodec, runtimeStore, StoreUnavailableError } from '@ergon/core';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ergon, json, tempDir } from './testing/cli.js';

let path = '';
let remove = () => {};
const ids = { damaged: '', waiting: '', other: '' };

/** The part of better-sqlite3 used here, resolved from the SQLite store's own dependencies. */
type Db = { prepare(sql: string): { run(...params: unknown[]): unknown }; close(): void };
const Database = createRequire(new URL('../../../packages/storage-sqlite/package.json', import.meta.url))(
  'better-sqlite3',
) as new (
  path: string,
) => Db;

beforeAll(async () => {
  const tmp = tempDir('ergon-cli-damaged-');
  remove = tmp.remove;
  path = join(tmp.dir, 'store.db');
  const raw = await SqliteExecutionLog.open({ path });
  const store = runtimeStore(raw);
  try {
    const client = new Client({ store });
    for (const name of Object.keys(ids) as (keyof typeof ids)[]) {
      ids[name] = (await client.schedule(`cli-${name}`, { n: 1 })).id;
    }
    const claim = async (type: string) => {
      const [claimed] = await store.claim({
        workerId: 'w',
        types: [type],
        queues: ['default'],
        limit: 1,
        leaseMs: 60_000,
        now: Date.now(),
      });
      if (!claimed) throw new Error(`flow of ${type} not claimable`);
      return claimed;
    };
    const damaged = await claim('cli-damaged');
    await store.suspend({
      flowId: ids.damaged,
      token: damaged.token,
      waits: [{ kind: 'signal', name: 'go', position: 0 }],
      now: Date.now(),
    });
    const waiting = await claim('cli-waiting');
    await store.releaseLease({
      flowId: ids.waiting,
      token: waiting.token,
      now: Date.now(),
      error: defaultCodec.encode(new StoreUnavailableError('sqlite', 'the disk is full')),
      retryAt: Date.now() + 3_600_000,
    });
  } finally {
    await store.close();
  }
  const db = new Database(path);
  try {
    db.prepare("update flows set waits = '{not json' where id = ?").run(ids.damaged);
  } finally {
    db.close();
  }
});
afterAll(() => remove());

describe('a store in trouble', () => {
  it('flows list lists every flow when one flow record is damaged, and flags that one', async () => {
    const run = await ergon(['--store', `sqlite:${path}`, '--json', 'flows', 'list']);
    const { flows } = json<{ flows: { id: string; damage?: string }[] }>(run);
    expect(flows.map((f) => f.id).sort()).toEqual(Object.values(ids).sort());
    expect(flows.find((f) => f.id === ids.damaged)?.damage).toMatch(/waits/);
    const text = await ergon(['--store', `sqlite:${path}`, 'flows', 'list']);
    expect(text.code, text.stderr).toBe(0);
    for (const id of Object.values(ids)) expect(text.stdout).toContain(id);
  });

  it('flows show says why a flow is not progressing: its abandoned runs and their last error', async () => {
    const text = await ergon(['--store', `sqlite:${path}`, 'flows', 'show', ids.waiting]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/abandoned\s+1 run\(s\) in a row/);
    expect(text.stdout).toMatch(/last error\s+StoreUnavailableError \[STORE_UNAVAILABLE\]: .*disk is full/);
    const shown = json<{ abandonedRuns: number; lastError: { code: string } }>(
      await ergon(['--store', `sqlite:${path}`, '--json', 'flows', 'show', ids.waiting]),
    );
    expect(shown).toMatchObject({ abandonedRuns: 1, lastError: { code: 'STORE_UNAVAILABLE' } });
    const damaged = await ergon(['--store', `sqlite:${path}`, 'flows', 'show', ids.damaged]);
    expect(damaged.stdout).toMatch(/damaged\s+.*unreadable waits/);
  });
});
