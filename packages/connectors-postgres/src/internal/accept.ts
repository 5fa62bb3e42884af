/**
 * Claimed rows become transactions, or dead letters.
 *
 * @module
 */
import { describeReason, ErgonError, ErrorCode, type Logger, type Transaction } from '@ergon/core';
import type { ResolvedQueueOptions } from '../options.js';
import type { HeldRows } from './held.js';
import { toTransaction } from './rows.js';
import type { Claim, QueueRow, QueueStatements } from './statements.js';

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
 * stays claimed, and comes back after the visibility timeout). A plain
 * loop, with an async step only when something is dead-lettered: it runs
 * for every row claimed.
 */
export function acceptRows<P>(
  rows: readonly QueueRow[],
  env: AcceptEnv,
): Promise<Transaction<P>[]> | Transaction<P>[] {
  const out: Transaction<P>[] = [];
  let refused: { claim: Claim; reason: unknown }[] | undefined;
  const { maxAttempts, queueSql } = env.options;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as QueueRow;
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
      // The row is its own claim (seq, attempts): no object more per row.
      env.held.add(row);
      out.push(transaction);
    } else {
      refused ??= [];
      refused.push({ claim: row, reason });
    }
  }
  return refused ? deadLetterRefused(refused, env).then(() => out) : out;
}

async function deadLetterRefused(
  refused: readonly { claim: Claim; reason: unknown }[],
  env: AcceptEnv,
): Promise<void> {
  for (const { claim, reason } of refused) {
    await env.statements
      .deadLetter({ claim, reason: JSON.stringify(describeReason(reason)) })
      .catch((error: unknown) =>
        // Still claimed: it comes back after the visibility timeout, and is dead-lettered then.
        env.logger.warn(`postgres: could not dead-letter row ${claim.seq} of ${env.options.queueSql}`, {
          error: String(error),
        }),
      );
  }
}
