/**
 * Global setup of the `postgres` project: a schema-name prefix of this run for the test files
 * (`stores.ts` reuses emptied schemas under it, `SchemaPool`), and at the end every schema under
 * it dropped, a crashed test's included.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dropSchemasLike } from '@ergon/testing/schema-pool';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The prefix of this run's PostgreSQL test schemas. */
    postgresSchemaPrefix: string;
  }
}

const POSTGRES_URL = process.env.ERGON_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface PgClient {
  connect(): Promise<unknown>;
  query(text: string, params?: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

export default function setup(project: TestProject): () => Promise<void> {
  const prefix = `ergon_test_exec_${randomUUID().replaceAll('-', '').slice(0, 8)}`;
  project.provide('postgresSchemaPrefix', prefix);
  return async () => {
    // pg, resolved from the store's own dependencies (this package has none on it).
    const require = createRequire(new URL('../../storage-postgres/package.json', import.meta.url));
    const pg = require('pg') as { Client: new (options: { connectionString: string }) => PgClient };
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      await dropSchemasLike((text, params) => admin.query(text, params), prefix);
    } finally {
      await admin.end();
    }
  };
}
