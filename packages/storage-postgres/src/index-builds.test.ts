import { runtimeStore } from '@ergon/core';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresExecutionLog } from './index.js';
import { dropSchema, outside, POSTGRES_URL, postgresAvailable, testSchema } from './test-support.js';

const schemas: string[] = [];
afterAll(async () => {
  for (const name of schemas) await dropSchema(name);
});

const T0 = Date.UTC(2030, 0, 1);
const READY_INDEXES = ['flows_fair_ready', 'flows_lease', 'flows_ready', 'flows_wake_ready'];

// Skipped only without a PostgreSQL on a developer's machine; under CI=true requireService throws instead.
describe.skipIf(!postgresAvailable)('indexes an upgrade builds', () => {
  it('builds a missing index of a pending migration and rebuilds an invalid one, with processes opening together', async () => {
    const schema = testSchema('builds');
    schemas.push(schema);
    const first = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema });
    await first.close();
    // Back to a schema that has not run migration 0008: one of its indexes missing, one left invalid
    // (what a concurrent build that failed leaves behind), and a flow ready to run.
    await outside(`delete from "${schema}".ergon_migration where name >= '0008';
      drop index "${schema}".flows_ready;
      update pg_index set indisvalid = false where indexrelid = '"${schema}".flows_lease'::regclass;
      insert into "${schema}".flows (id, type, queue, status, priority, input, run_at, created_at, updated_at)
        values ('ready', 't', 'q', 'pending', 0, '[]', ${T0}, ${T0}, ${T0})`);
    const stores = await Promise.all(
      Array.from({ length: 3 }, () => PostgresExecutionLog.open({ url: POSTGRES_URL, schema, poolSize: 2 })),
    );
    try {
      const indexes = await outside<{ name: string; valid: boolean }>(
        `select c.relname as name, i.indisvalid as valid from pg_index i
           join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = $1 and c.relname = any($2) order by c.relname`,
        [schema, READY_INDEXES],
      );
      expect(indexes).toEqual(READY_INDEXES.map((name) => ({ name, valid: true })));
      const migrated = await outside<{ name: string }>(
        `select name from "${schema}".ergon_migration where name >= '0008' order by name`,
      );
      expect(migrated.map((m) => m.name)).toEqual([
        '0008_ready_index',
        '0009_create_procedure',
        '0010_batch_function',
        '0011_fillfactor',
        '0012_claim_park',
        '0013_batch_notify',
        '0014_listed_index',
        '0015_batch_claim',
      ]);
      const store = runtimeStore(stores[0] as PostgresExecutionLog);
      const claimed = await store.claim({
        workerId: 'w',
        types: ['t'],
        queues: ['q'],
        limit: 5,
        leaseMs: 60_000,
        now: T0 + 1,
      });
      expect(claimed.map((c) => c.flow.id)).toEqual(['ready']);
    } finally {
      for (const store of stores) await store.close();
    }
  });
});
