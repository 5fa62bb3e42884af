/**
 * Claimed rows become transactions, or dead letters.
 *
 * @module
 */
import { describeReason, ErgonError, ErrorCode, type Logger, type Transaction } from '@ergon/core';
import type { ResolvedQueueOptions } from '../options.js';
import type { HeldRows } from './held.js';
import { toTransaction } from './rows.js';
import type { QueueRow, QueueStatements } from './statements.js';

/** What accepting rows uses of its connector. */
export interface AcceptEnv {
  readonly options: ResolvedQueueOptions;
  /** Where accepted rows are held. */
  readonly held: HeldRows;
  readonly statements: QueueStatements;
  readonly logger: Logger;
}

/**
 * Turns claimed rows into transactions, now held; dead-letters what cannot
 * be one, or was delivered too often (a row that cannot be dead-lettered
 * stays claimed, and comes back after the visibility timeout).
 */
export async function acceptRows<P>(rows: readonly QueueRow[], env: AcceptEnv): Promise<Transaction<P>[]> {
  const out: Transaction<P>[] = [];
  const { maxAttempts, queueSql } = env.options;
  for (const row of rows) {
    const claim = { seq: row.seq, attempts: row.attempts };
    let reason: unknown;
    let transaction: Transaction<P> | undefined;
    try {
      transaction = toTransaction<P>(row, env.options);
    } catch (error) {
      reason = error;
    }
    if (transaction && row.attempts > maxAttempts) {
      reason = new ErgonError(
        ErrorCode.CONNECTOR_ERROR,
        `row ${row.seq} of ${queueSql} was delivered ${row.attempts} times, more than maxAttempts (${maxAttempts}): ` +
          'its processing keeps failing or its consumers keep dying; see why, then insert it again',
        { details: { seq: row.seq, attempts: row.attempts, maxAttempts } },
      );
    }
    if (reason === undefined && transaction) {
      env.held.add(claim);
      out.push(transaction);
      continue;
    }
    await env.statements
      .deadLetter({ claim, reason: JSON.stringify(describeReason(reason)) })
      .catch((error: unknown) =>
        // Still claimed: it comes back after the visibility timeout, and is dead-lettered then.
        env.logger.warn(`postgres: could not dead-letter row ${row.seq} of ${queueSql}`, {
          error: String(error),
        }),
      );
  }
  return out;
}
