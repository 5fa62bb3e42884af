/**
 * The tables of a queue: the queue itself (one row per message, claimed in
 * place) and its dead-letter table. Created once per start when missing,
 * under an advisory lock, so processes starting together do not race.
 *
 * @module
 */
import type pg from 'pg';
import type { ResolvedQueueOptions } from '../options.js';

/** The DDL of a queue and its dead-letter table (every statement idempotent). */
export function queueDdl(options: ResolvedQueueOptions): string[] {
  const { schema, table, queueSql, deadLetterSql } = options;
  return [
    `CREATE SCHEMA IF NOT EXISTS "${schema}"`,
    `CREATE TABLE IF NOT EXISTS ${queueSql} (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id text,
      payload jsonb NOT NULL,
      metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
      attempts integer NOT NULL DEFAULT 0,
      visible_at timestamptz NOT NULL DEFAULT now(),
      claimed_by text,
      enqueued_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX IF NOT EXISTS "${table.slice(0, 48)}_visible" ON ${queueSql} (visible_at, seq)`,
    `CREATE INDEX IF NOT EXISTS "${table.slice(0, 48)}_id" ON ${queueSql} (id)`,
    `CREATE TABLE IF NOT EXISTS ${deadLetterSql} (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id text,
      payload jsonb,
      metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
      attempts integer NOT NULL DEFAULT 0,
      reason jsonb NOT NULL,
      source_seq bigint,
      enqueued_at timestamptz,
      dead_at timestamptz NOT NULL DEFAULT now()
    )`,
  ];
}

/**
 * Runs the DDL in one transaction, serialised across processes by an
 * advisory lock, in one round trip: the statements go as one simple query,
 * which PostgreSQL runs as one implicit transaction (all or nothing, the
 * lock held to its end), instead of a round trip per statement.
 */
export async function createQueueTables(pool: pg.Pool, options: ResolvedQueueOptions): Promise<void> {
  const statements = [`SELECT pg_advisory_xact_lock(hashtext('ergon:queue-ddl'))`, ...queueDdl(options)];
  await pool.query(statements.join(';\n'));
}
