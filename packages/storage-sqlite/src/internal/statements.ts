/**
 * Kysely builds every query; better-sqlite3 runs it. Hot-path queries are built
 * once with named placeholders ({@link param}), compiled, and kept as prepared
 * statements, so a call costs one bind and one step, not a build and a parse.
 * Other queries go through a small cache keyed by their SQL text.
 *
 * @module
 */
import type Database from 'better-sqlite3';
import { type Compilable, type RawBuilder, sql } from 'kysely';

/** Values by placeholder name: any object whose properties carry the names. */
type Values = object;

/** A named placeholder, replaced by the value of that name when the statement runs. */
class Param {
  constructor(readonly name: string) {}
}

/**
 * A placeholder to use in a Kysely query in place of a value. Typed as `T` so
 * the builder type-checks; it is only ever compiled, never executed by Kysely.
 */
export function param<T>(name: string): T {
  return new Param(name) as unknown as T;
}

/**
 * A LIMIT of the named parameter that leaves the statement prepared. SQLite (3.53 here) reads a
 * bound `LIMIT ?` while planning and marks the statement to be prepared again whenever that
 * parameter is bound again: on every run, since better-sqlite3 binds every parameter each time
 * (~70k instructions for the claim's candidates, more for larger statements). It does not read
 * an expression: `? + 0` is one, of the same value.
 */
export function limitParam(name: string): RawBuilder<number> {
  return sql<number>`${param<number>(name)} + 0`;
}

/** A compiled, prepared statement with named parameters. */
export class Prepared<Row> {
  readonly #stmt: Database.Statement<unknown[], Row>;
  /** The SQL text, for diagnostics (`EXPLAIN QUERY PLAN`). */
  readonly source: string;
  /** Per parameter: the name to read from the values, or undefined for a constant. */
  readonly #names: readonly (string | undefined)[];
  readonly #constants: readonly unknown[];

  /**
   * `values`: rows come back as arrays of values in column order, not objects (better-sqlite3
   * builds an object property by property, each name made again: for a flow's 29 columns, a
   * fifth of a claim's cost). `pluck`: each row is its first column's value.
   */
  constructor(db: Database.Database, query: Compilable, options?: { values: true } | { pluck: true }) {
    const compiled = query.compile();
    this.source = compiled.sql;
    this.#stmt = db.prepare<unknown[], Row>(compiled.sql);
    if (options && 'values' in options) this.#stmt.raw(true);
    if (options && 'pluck' in options) this.#stmt.pluck(true);
    this.#names = compiled.parameters.map((p) => (p instanceof Param ? p.name : undefined));
    this.#constants = compiled.parameters.map((p) => (p instanceof Param ? undefined : p));
  }

  /** Runs a write; returns the number of rows changed. */
  run(values: Values = {}): number {
    return this.#stmt.run(...this.#bind(values)).changes;
  }

  /** Runs an insert; returns the rowid of the row it inserted. */
  insert(values: Values = {}): number {
    return Number(this.#stmt.run(...this.#bind(values)).lastInsertRowid);
  }

  /** The first row, or undefined. */
  get(values: Values = {}): Row | undefined {
    return this.#stmt.get(...this.#bind(values));
  }

  /** Every row. */
  all(values: Values = {}): Row[] {
    return this.#stmt.all(...this.#bind(values));
  }

  // The positional parameters, passed as arguments: better-sqlite3 would bind the elements of
  // one array argument too, but reads each through the V8 API (~430 instructions a value).
  #bind(values: Values): unknown[] {
    const names = this.#names;
    const args = new Array<unknown>(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      args[i] =
        name === undefined ? this.#constants[i] : toSqlValue((values as Record<string, unknown>)[name]);
    }
    return args;
  }
}

/**
 * A compiled, prepared write whose values are passed in order, for the hottest
 * path: no lookup by name, no array. The order is checked when it is prepared.
 */
export class Ordered {
  /** The better-sqlite3 statement: call `run(...values)` with the values in {@link Ordered.names} order. */
  readonly statement: Database.Statement<unknown[], unknown>;
  /** The SQL text, for diagnostics (`EXPLAIN QUERY PLAN`). */
  readonly source: string;

  constructor(
    db: Database.Database,
    query: Compilable,
    readonly names: readonly string[],
  ) {
    const compiled = query.compile();
    const found = compiled.parameters.map((p) => (p instanceof Param ? p.name : '(constant)'));
    if (found.join() !== names.join()) {
      throw new Error(`statement parameters are (${found.join(', ')}), expected (${names.join(', ')})`);
    }
    this.source = compiled.sql;
    this.statement = db.prepare(compiled.sql);
  }
}

/**
 * `update or fail`: a failed constraint (none is expected) fails the statement without rolling
 * back the rows it changed before, so SQLite keeps no statement journal, which copied each page
 * the statement changed that the transaction had already changed (finish 14.2 → 12.2 µs, alternated).
 * Safe since every failure rolls back the whole transaction or savepoint, and a lone statement
 * changes one row.
 */
export function orFail(query: Compilable): Compilable {
  return {
    compile: () => {
      const compiled = query.compile();
      return { ...compiled, sql: compiled.sql.replace(/^update /, 'update or fail ') };
    },
  };
}

/** Runs ad-hoc Kysely queries (listing, purge) through a bounded cache of prepared statements. */
export class StatementCache {
  readonly #db: Database.Database;
  readonly #cache = new Map<string, Database.Statement<unknown[], unknown>>();
  readonly #capacity: number;

  constructor(db: Database.Database, capacity = 64) {
    this.#db = db;
    this.#capacity = capacity;
  }

  /** Every row of the compiled query. */
  all<Row>(query: Compilable<Row>): Row[] {
    const compiled = query.compile();
    return this.#statement(compiled.sql).all(...compiled.parameters.map(toSqlValue)) as Row[];
  }

  /** Runs a compiled write; returns the number of rows changed. */
  run(query: Compilable): number {
    const compiled = query.compile();
    return this.#statement(compiled.sql).run(...compiled.parameters.map(toSqlValue)).changes;
  }

  #statement(sql: string): Database.Statement<unknown[], unknown> {
    let stmt = this.#cache.get(sql);
    if (stmt) {
      // Refresh its place so the least recently used statement is evicted first.
      this.#cache.delete(sql);
    } else {
      stmt = this.#db.prepare(sql);
      if (this.#cache.size >= this.#capacity) {
        const oldest = this.#cache.keys().next().value;
        if (oldest !== undefined) this.#cache.delete(oldest);
      }
    }
    this.#cache.set(sql, stmt);
    return stmt;
  }
}

/** better-sqlite3 binds neither `undefined` nor booleans. */
function toSqlValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}
