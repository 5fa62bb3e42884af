// Shared by the service-backed tests: the server's url, a schema of each
// test's own (validated, dropped afterwards), an admin pool that looks at
// the tables from outside the connector, and dropping a connector's
// connections server-side by their application_name (only the test's own).
import { randomUUID } from 'node:crypto';
import { requireService } from '@ergon/testing';
import pg from 'pg';
import { afterAll } from 'vitest';

/** The server of the tests (DESIGN §8). */
export const POSTGRES_URL = process.env.ERGON_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether PostgreSQL answers; under CI=true an unreachable server fails the run instead. */
export const postgresAvailable = (await requireService('PostgreSQL', POSTGRES_URL)).available;

/** A schema name no other test uses: `ergon_t_<label>_<random>`. */
export function uniqueSchema(label: string): string {
  return `ergon_t_${label}_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
}

/** An application_name unique to one connector of one test, to find (and kill) its connections. */
export function uniqueApplicationName(label: string): string {
  return `ergon-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** A pool for looking at tables from outside; ended after the file. */
export function adminPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, application_name: 'ergon-test-admin', max: 3 });
  pool.on('error', () => undefined);
  afterAll(() => pool.end());
  return pool;
}

/** Drops schemas (and everything in them), missing ones too. */
export async function dropSchemas(pool: pg.Pool, schemas: readonly string[]): Promise<void> {
  for (const schema of schemas) {
    if (!/^ergon_t_[a-z0-9_]+$/.test(schema)) throw new Error(`refusing to drop schema ${schema}`);
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

/**
 * Ends every connection named `applicationName` server-side
 * (`pg_terminate_backend`), as a network failure or a server restart would.
 * Only the test's own connections carry such a name.
 */
export async function terminateConnections(pool: pg.Pool, applicationName: string): Promise<number> {
  if (!applicationName.startsWith('ergon-test-')) throw new Error(`refusing to kill ${applicationName}`);
  const result = await pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE application_name = $1 AND pid <> pg_backend_pid()`,
    [applicationName],
  );
  return result.rowCount ?? 0;
}
