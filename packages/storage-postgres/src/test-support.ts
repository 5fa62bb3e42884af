/**
 * What this package's tests share: the server, a schema per test, and raw SQL
 * from outside the store (as another tool would run it). Not exported.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { requireService, SchemaPool } from '@ergon/testing';
import pg from 'pg';

/** The PostgreSQL the tests use (DESIGN §8). */
export const POSTGRES_URL = process.env.ERGON_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether it answers; under CI=true a missing server fails here. */
export const postgresAvailable = (await requireService('PostgreSQL', POSTGRES_URL)).available;

/** A fresh schema name for one test. */
export function testSchema(label = 't'): string {
  return `ergon_test_${label}_${randomBytes(5).toString('hex')}`;
}

/** Runs one statement on a connection of its own. */
export async function outside<Row = Record<string, unknown>>(
  text: string,
  values: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as Row[];
  } finally {
    await client.end();
  }
}

/** Drops a test's schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(schema)) throw new Error(`bad schema name ${schema}`);
  await outside(`drop schema if exists "${schema}" cascade`);
}

/**
 * Schemas emptied and reused from test to test (a new one runs every migration); `drain` drops
 * them. For suites whose tests need a store, not a fresh schema (the conformance suite).
 */
export function reusedSchemas(label: string): SchemaPool {
  return new SchemaPool(
    async (text, params) => ({ rows: await outside(text, params ? [...params] : []) }),
    `ergon_test_${label}_${randomBytes(4).toString('hex')}`,
    'ergon_migration',
  );
}
