import { randomUUID } from 'node:crypto';
import { runtimeStore } from '@ergon/core';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresExecutionLog } from './index.js';
import { dropSchema, outside, POSTGRES_URL, postgresAvailable, testSchema } from './test-support.js';

const schemas: string[] = [];
function schema(label: string): string {
  const name = testSchema(label);
  schemas.push(name);
  return name;
}
afterAll(async () => {
  for (const name of schemas) await dropSchema(name);
});

const T0 = Date.UTC(2030, 0, 1);

describe('options', () => {
  it('refuses a schema name that is not a plain lower-case identifier, with INVALID_ARGUMENT', async () => {
    for (const bad of ['', 'Ergon', '1ergon', 'er"gon', 'ergon; drop table x', 'pg_ergon', 'a'.repeat(64)]) {
      await expect(PostgresExecutionLog.open({ schema: bad })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    }
  });

  it('refuses a url and a pool together, a url of another scheme and a pool size out of range', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    try {
      await expect(PostgresExecutionLog.open({ url: POSTGRES_URL, pool })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    } finally {
      await pool.end();
    }
    await expect(PostgresExecutionLog.open({ url: 'mysql://localhost/x' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(PostgresExecutionLog.open({ poolSize: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('reports a server that cannot be reached as STORE_UNAVAILABLE', async () => {
    await expect(
      PostgresExecutionLog.open({ url: 'postgres://postgres@127.0.0.1:1/test', schema: schema('down') }),
    ).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});

describe.skipIf(!postgresAvailable)('opening a schema', () => {
  it('creates the schema and its tables once when several stores open it at the same time', async () => {
    const name = schema('race');
    const stores = await Promise.all(
      Array.from({ length: 4 }, () =>
        PostgresExecutionLog.open({ url: POSTGRES_URL, schema: name, poolSize: 2 }),
      ),
    );
    try {
      const migrated = await outside<{ name: string }>(`select name from "${name}".ergon_migration`);
      expect(migrated.map((m) => m.name)).toEqual([
        '0001_initial',
        '0002_progress',
        '0003_flow_control',
        '0004_schedules',
        '0005_wake_key',
        '0006_functions',
        '0007_hand_off',
        '0008_ready_index',
        '0009_create_procedure',
        '0010_batch_function',
        '0011_fillfactor',
        '0012_claim_park',
        '0013_batch_notify',
        '0014_listed_index',
        '0015_batch_claim',
      ]);
      const [a, b] = stores.map((s) => runtimeStore(s));
      await a?.createFlow({
        id: 'shared',
        type: 't',
        queue: 'q',
        input: '[]',
        priority: 0,
        runAt: T0,
        now: T0,
      });
      expect(await b?.getFlow('shared')).toMatchObject({ id: 'shared', status: 'pending', runAt: T0 });
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it('upgrades a schema of the first version: flows keep their rows and take progress', async () => {
    const name = schema('upgrade');
    const first = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema: name });
    await first.close();
    // Back to what migration 0001 alone left, with a flow running in it.
    await outside(`alter table "${name}".flows drop column progress, drop column progress_at;
      delete from "${name}".ergon_migration where name = '0002_progress'`);
    await outside(`insert into "${name}".flows (id, type, queue, status, priority, input, run_at, fencing_token,
      lease_owner, lease_expires_at, created_at, updated_at) values
      ('old', 't', 'q', 'running', 0, '[]', ${T0}, 3, 'w', ${T0 + 60_000}, ${T0}, ${T0}),
      ('ready', 't', 'q', 'pending', 0, '[]', ${T0}, 0, null, null, ${T0}, ${T0})`);
    const store = runtimeStore(await PostgresExecutionLog.open({ url: POSTGRES_URL, schema: name }));
    try {
      const migrated = await outside<{ name: string }>(
        `select name from "${name}".ergon_migration order by name`,
      );
      expect(migrated.map((m) => m.name)).toEqual([
        '0001_initial',
        '0002_progress',
        '0003_flow_control',
        '0004_schedules',
        '0005_wake_key',
        '0006_functions',
        '0007_hand_off',
        '0008_ready_index',
        '0009_create_procedure',
        '0010_batch_function',
        '0011_fillfactor',
        '0012_claim_park',
        '0013_batch_notify',
        '0014_listed_index',
        '0015_batch_claim',
      ]);
      expect(await store.getFlow('old')).toMatchObject({
        status: 'running',
        fencingToken: 3,
        progress: undefined,
      });
      await store.setProgress({ flowId: 'old', token: 3, progress: '[0.5]', now: T0 + 1 });
      expect(await store.getFlow('old')).toMatchObject({ progress: '[0.5]', progressAt: T0 + 1 });
      // Both stay claimable on the indexes of migration 0008: the ready one, and the running one once its lease ends.
      const claim = (now: number) =>
        store.claim({ workerId: 'w2', types: ['t'], queues: ['q'], limit: 5, leaseMs: 120_000, now });
      expect((await claim(T0 + 2)).map((c) => c.flow.id)).toEqual(['ready']);
      expect((await claim(T0 + 60_000)).map((c) => [c.flow.id, c.token])).toEqual([['old', 4]]);
    } finally {
      await store.close();
    }
  });

  it('refuses a schema holding tables of another application with STORE_FOREIGN, and leaves it as it was', async () => {
    const name = schema('foreign');
    await outside(`create schema "${name}"; create table "${name}".orders (id int primary key)`);
    await expect(PostgresExecutionLog.open({ url: POSTGRES_URL, schema: name })).rejects.toMatchObject({
      code: 'STORE_FOREIGN',
    });
    const tables = await outside<{ table_name: string }>(
      'select table_name from information_schema.tables where table_schema = $1',
      [name],
    );
    expect(tables.map((t) => t.table_name)).toEqual(['orders']);
  });

  it('refuses a schema migrated by a newer version with STORE_SCHEMA_TOO_NEW', async () => {
    const name = schema('newer');
    const store = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema: name });
    await store.close();
    await outside(`insert into "${name}".ergon_migration (name) values ('9999_from_the_future')`);
    await expect(PostgresExecutionLog.open({ url: POSTGRES_URL, schema: name })).rejects.toMatchObject({
      code: 'STORE_SCHEMA_TOO_NEW',
    });
  });

  it('runs on a pool the caller passes, and leaves it open when closed', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 3 });
    try {
      const store = runtimeStore(await PostgresExecutionLog.open({ pool, schema: schema('pool') }));
      const flow = { id: randomUUID(), type: 't', queue: 'q', input: '[]', priority: 0, runAt: T0, now: T0 };
      expect((await store.createFlow(flow)).created).toBe(true);
      await store.close();
      expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('keeps stores in different schemas apart, events included', async () => {
    const a = runtimeStore(await PostgresExecutionLog.open({ url: POSTGRES_URL, schema: schema('apart_a') }));
    const b = runtimeStore(await PostgresExecutionLog.open({ url: POSTGRES_URL, schema: schema('apart_b') }));
    const heardByB: string[] = [];
    const stop = b.subscribe?.((event) => {
      if (event.type === 'ready') heardByB.push(event.queue);
    });
    try {
      await a.createFlow({
        id: 'only-in-a',
        type: 't',
        queue: 'qa',
        input: '[]',
        priority: 0,
        runAt: T0,
        now: T0,
      });
      await b.createFlow({
        id: 'only-in-b',
        type: 't',
        queue: 'qb',
        input: '[]',
        priority: 0,
        runAt: T0,
        now: T0,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await b.getFlow('only-in-a')).toBeUndefined();
      expect(await a.getFlow('only-in-b')).toBeUndefined();
      expect(heardByB).toEqual(['qb']);
    } finally {
      stop?.();
      await a.close();
      await b.close();
    }
  });
});
