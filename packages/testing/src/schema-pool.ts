/**
 * PostgreSQL schemas for tests, reused instead of created and dropped per
 * test: creating a store's schema runs every migration (about half a second),
 * emptying one takes a few milliseconds. A released schema is emptied (every
 * row of every table but the migration table) and
 * handed to the next test of the same process; `drain` drops them all.
 * Every schema's name starts with the pool's prefix, so a run's global
 * teardown can drop whatever a crashed test left behind
 * ({@link dropSchemasLike}).
 *
 * Driver-free: give it a function that runs one SQL statement.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';

/** What a {@link SqlQuery} resolves with. */
export interface SqlResult {
  /** The statement's rows, column name to value. */
  readonly rows: Record<string, unknown>[];
}

/** Runs one SQL statement with positional parameters; resolves with its rows. */
export type SqlQuery = (text: string, params?: readonly unknown[]) => Promise<SqlResult>;

/** Letters, digits and `_`: safe to quote in DDL. */
const NAME = /^[a-z_][a-z0-9_]{0,40}$/;

/** A pool of test schemas whose names start with `prefix`. */
export class SchemaPool {
  readonly #query: SqlQuery;
  readonly #prefix: string;
  readonly #keep: string;
  readonly #free: string[] = [];
  readonly #made = new Set<string>();

  /**
   * @param prefix Letters, digits, `_` (at most 40 characters): every schema is `<prefix>_<random>`.
   * @param keep A table never emptied (the store's migration table, so an open finds it migrated).
   */
  constructor(query: SqlQuery, prefix: string, keep: string) {
    if (!NAME.test(prefix)) throw new Error(`schema prefix ${JSON.stringify(prefix)}: use a-z, 0-9 and _`);
    this.#query = query;
    this.#prefix = prefix;
    this.#keep = keep;
  }

  /** A schema of this pool nobody uses now: an emptied one, or a new name (the store creates it). */
  acquire(): string {
    const reused = this.#free.pop();
    if (reused) return reused;
    const schema = `${this.#prefix}_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    this.#made.add(schema);
    return schema;
  }

  /** Empties `schema` (its store closed) and keeps it for the next {@link acquire}. */
  async release(schema: string): Promise<void> {
    if (!this.#made.has(schema)) throw new Error(`schema ${schema} is not from this pool`);
    const { rows } = await this.#query(
      'select tablename from pg_tables where schemaname = $1 and tablename <> $2',
      [schema, this.#keep],
    );
    // DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE replaces each table's files.
    const tables = rows.map((row) => `"${schema}"."${String(row.tablename).replaceAll('"', '""')}"`);
    if (tables.length > 0) await this.#query(tables.map((table) => `delete from ${table}`).join('; '));
    this.#free.push(schema);
  }

  /** Drops every schema this pool made. */
  async drain(): Promise<void> {
    for (const schema of this.#made) await this.#query(`drop schema if exists "${schema}" cascade`);
    this.#made.clear();
    this.#free.length = 0;
  }
}

/** Drops every schema whose name starts with `prefix` (a run's teardown, after crashed tests). */
export async function dropSchemasLike(query: SqlQuery, prefix: string): Promise<number> {
  if (!NAME.test(prefix)) throw new Error(`schema prefix ${JSON.stringify(prefix)}: use a-z, 0-9 and _`);
  const { rows } = await query('select nspname from pg_namespace where starts_with(nspname, $1)', [
    `${prefix}_`,
  ]);
  for (const row of rows) await query(`drop schema if exists "${String(row.nspname)}" cascade`);
  return rows.length;
}
