/**
 * Every statement of a queue, one typed function each: it builds the SQL and
 * its parameters and decodes the reply, so the connector stays plumbing.
 * A claim is fenced by `(seq, attempts)`: `attempts` grows with every
 * claim, so a settlement from a holder whose claim expired (and was taken
 * by another consumer) changes nothing.
 *
 * @module
 */
import type { ResolvedQueueOptions } from '../options.js';
import type { PostgresService, Queryable } from '../service.js';

/** A claimed (or found) row. */
export interface QueueRow {
  readonly seq: string;
  readonly id: string | null;
  /** The payload's JSON text. */
  readonly payload: string;
  readonly metadata: Record<string, unknown> | null;
  readonly attempts: number;
}

/** One claim: the row and its delivery number. */
export interface Claim {
  readonly seq: string;
  readonly attempts: number;
}

/** A row to insert. */
export interface NewRow {
  readonly id: string;
  /** JSON text. */
  readonly payload: string;
  /** JSON text of an object of strings. */
  readonly metadata: string;
}

/** A dead letter to record for a claimed row. */
export interface DeadLetterWrite {
  readonly claim: Claim;
  /** JSON text of `{ code, name, message }`. */
  readonly reason: string;
}

/** The statements of one queue, on one service. */
export class QueueStatements {
  readonly #service: PostgresService;
  readonly #o: ResolvedQueueOptions;

  constructor(service: PostgresService, options: ResolvedQueueOptions) {
    this.#service = service;
    this.#o = options;
  }

  /** Claims up to `limit` visible rows (oldest first), invisible for the visibility timeout; counts the delivery. */
  async claim(limit: number, consumer: string): Promise<QueueRow[]> {
    const { queueSql, visibilityMs } = this.#o;
    const result = await this.#service.query<QueueRow>(
      `WITH next AS (
         SELECT seq FROM ${queueSql} WHERE visible_at <= now()
         ORDER BY visible_at, seq LIMIT $1 FOR UPDATE SKIP LOCKED
       )
       UPDATE ${queueSql} AS q
          SET attempts = q.attempts + 1, visible_at = now() + $2::float8 * interval '1 millisecond', claimed_by = $3
         FROM next WHERE q.seq = next.seq
       RETURNING q.seq::text AS seq, q.id, q.payload::text AS payload, q.metadata, q.attempts`,
      [limit, visibilityMs, consumer],
      { action: 'claim rows of', table: queueSql },
    );
    return result.rows.sort((a, b) => compareSeq(a.seq, b.seq));
  }

  /** Milliseconds until the next row becomes visible (0 when one is), or undefined for an empty queue. */
  async nextVisibleIn(): Promise<number | undefined> {
    const { queueSql } = this.#o;
    const result = await this.#service.query<{ ms: string | null }>(
      `SELECT (EXTRACT(EPOCH FROM (min(visible_at) - clock_timestamp())) * 1000)::text AS ms FROM ${queueSql}`,
      [],
      { action: 'look at', table: queueSql, idempotent: true },
    );
    const ms = result.rows[0]?.ms;
    return ms === null || ms === undefined ? undefined : Math.max(0, Math.ceil(Number(ms)));
  }

  /** Deletes the claimed rows (an ack); returns how many were still held by these claims. */
  async delete(claims: readonly Claim[]): Promise<number> {
    const { queueSql } = this.#o;
    const result = await this.#service.query(
      `DELETE FROM ${queueSql} WHERE (seq, attempts) IN (SELECT * FROM unnest($1::bigint[], $2::int[]))`,
      claimArrays(claims),
      { action: 'ack rows of', table: queueSql, idempotent: true },
    );
    return result.rowCount ?? 0;
  }

  /** Makes the claimed rows visible again at once and wakes the listeners; returns how many were still held. */
  async release(claims: readonly Claim[]): Promise<number> {
    const { queueSql, channel } = this.#o;
    const result = await this.#service.query<{ released: string }>(
      `WITH released AS (
         UPDATE ${queueSql} SET visible_at = now(), claimed_by = NULL
          WHERE (seq, attempts) IN (SELECT * FROM unnest($1::bigint[], $2::int[]))
         RETURNING seq
       )
       SELECT c.n::text AS released
         FROM (SELECT count(*) AS n FROM released) AS c, LATERAL (SELECT pg_notify($3, '') WHERE c.n > 0) AS woken`,
      [...claimArrays(claims), channel],
      { action: 'requeue rows of', table: queueSql, idempotent: true },
    );
    return Number(result.rows[0]?.released ?? 0);
  }

  /** Pushes the visibility of held rows forward; returns the claims that are no longer held. */
  async extend(claims: readonly Claim[]): Promise<Claim[]> {
    const { queueSql, visibilityMs } = this.#o;
    const result = await this.#service.query<{ seq: string }>(
      `UPDATE ${queueSql} SET visible_at = now() + $3::float8 * interval '1 millisecond'
        WHERE (seq, attempts) IN (SELECT * FROM unnest($1::bigint[], $2::int[]))
       RETURNING seq::text AS seq`,
      [...claimArrays(claims), visibilityMs],
      { action: 'extend the visibility of rows of', table: queueSql, idempotent: true },
    );
    const kept = new Set(result.rows.map((r) => r.seq));
    return claims.filter((c) => !kept.has(c.seq));
  }

  /** Moves a claimed row to the dead-letter table with the reason, in one statement; false when it was no longer held. */
  async deadLetter(write: DeadLetterWrite): Promise<boolean> {
    const { queueSql, deadLetterSql } = this.#o;
    const result = await this.#service.query(
      `WITH gone AS (DELETE FROM ${queueSql} WHERE seq = $1 AND attempts = $2 RETURNING *)
       INSERT INTO ${deadLetterSql} (id, payload, metadata, attempts, reason, source_seq, enqueued_at)
       SELECT id, payload, metadata, attempts, $3::jsonb, seq, enqueued_at FROM gone`,
      [write.claim.seq, write.claim.attempts, write.reason],
      { action: 'dead-letter a row of', table: queueSql, idempotent: true },
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Inserts rows (in order) and notifies the queue's listeners, in one statement: on `on` when given (your transaction). */
  async insert(rows: readonly NewRow[], on?: Queryable): Promise<void> {
    const { queueSql, channel } = this.#o;
    await this.#service.query(
      `WITH inserted AS (
         INSERT INTO ${queueSql} (id, payload, metadata)
         SELECT * FROM unnest($1::text[], $2::jsonb[], $3::jsonb[])
         RETURNING 1
       )
       SELECT pg_notify($4, '')`,
      [rows.map((r) => r.id), rows.map((r) => r.payload), rows.map((r) => r.metadata), channel],
      { action: 'insert rows into', table: queueSql },
      on,
    );
  }

  /** The newest row with this id, or the row `seq`, without claiming it. */
  async find(by: { readonly id: string } | { readonly seq: string }): Promise<QueueRow | undefined> {
    const { queueSql } = this.#o;
    const [where, value] = 'seq' in by ? ['seq = $1::bigint', by.seq] : ['id = $1', by.id];
    const result = await this.#service.query<QueueRow>(
      `SELECT seq::text AS seq, id, payload::text AS payload, metadata, attempts
         FROM ${queueSql} WHERE ${where} ORDER BY seq DESC LIMIT 1`,
      [value],
      { action: 'read a row of', table: queueSql, idempotent: true },
    );
    return result.rows[0];
  }

  /** Rows waiting for delivery: visible now. */
  async readyCount(): Promise<number> {
    const { queueSql } = this.#o;
    const result = await this.#service.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${queueSql} WHERE visible_at <= now()`,
      [],
      { action: 'count rows of', table: queueSql, idempotent: true },
    );
    return Number(result.rows[0]?.n ?? 0);
  }
}

/** Orders decimal `bigint` texts. */
export function compareSeq(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The claims' `seq`s and `attempts` as two array literals (`{1,2,3}`) for
 * `$n::bigint[]` and `$n::int[]`: built in one loop rather than handed to pg
 * as arrays, which it escapes element by element (with a regular expression
 * each). Safe unquoted: a claim's `seq` is digits (PostgreSQL's text of a
 * bigint, or checked so by `claimOf`) and its `attempts` a whole number.
 */
function claimArrays(claims: readonly Claim[]): [string, string] {
  let seqs = '{';
  let attempts = '{';
  for (let i = 0; i < claims.length; i++) {
    const claim = claims[i] as Claim;
    const comma = i === 0 ? '' : ',';
    seqs += comma + claim.seq;
    attempts += comma + String(claim.attempts);
  }
  return [`${seqs}}`, `${attempts}}`];
}
