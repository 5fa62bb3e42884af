// What the PostgreSQL suites share: a schema per test on the local server, dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_URL = process.env.ERGON_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema name (also usable as an application_name). */
export function postgresSchema(label: string): string {
  return `ergon_test_${label}_${randomBytes(5).toString('hex')}`;
}

/** Runs one statement on a connection of its own. */
export async function postgresQuery<Row = Record<string, unknown>>(
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
export async function dropPostgresSchema(schema: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(schema)) throw new Error(`bad schema name ${schema}`);
  await postgresQuery(`drop schema if exists "${schema}" cascade`);
}
