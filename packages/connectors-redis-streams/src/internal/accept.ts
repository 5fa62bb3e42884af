/**
 * Delivered entries become transactions, now held, or dead letters.
 *
 * @module
 */
import { ErgonError, ErrorCode, type Logger, type Transaction } from '@ergon/core';
import { deadLetterFields } from '../dead-letters.js';
import type { StreamConsumer } from './consumer.js';
import type { Delivery } from './entries.js';
import { type EntryFormat, Refusal, toTransactions } from './fields.js';

/** What accepting entries uses of its connector: how its entries are read, and where they go. */
export interface AcceptEnv extends EntryFormat {
  /** Where accepted entries are held, and refused ones dead-lettered. */
  readonly consumer: StreamConsumer;
  readonly logger: Logger;
}

/** An entry that cannot be a transaction, and why. */
interface Refused {
  readonly delivery: Delivery;
  readonly reason: unknown;
  readonly transactionId: string | undefined;
}

/**
 * Turns deliveries into transactions, now held; dead-letters what cannot be
 * one, or was delivered more than `maxDeliveries` times (one that cannot be
 * dead-lettered stays pending here, and is found again). A plain loop, with
 * an async step only when something is dead-lettered: it runs for every
 * entry fetched.
 */
export function acceptDeliveries<P>(
  deliveries: readonly Delivery[],
  env: AcceptEnv,
): Promise<Transaction<P>[]> | Transaction<P>[] {
  const results = toTransactions<P>(deliveries, env);
  // Made at its size (usually every delivery is accepted), not grown a push at a time.
  const out = new Array<Transaction<P>>(deliveries.length);
  let accepted = 0;
  let refused: Refused[] | undefined;
  const { options, consumer } = env;
  const { maxDeliveries } = options;
  for (let i = 0; i < deliveries.length; i++) {
    const delivery = deliveries[i] as Delivery;
    const result = results[i] as Transaction<P> | Refusal;
    const transaction = result instanceof Refusal ? undefined : result;
    let reason = result instanceof Refusal ? result.reason : undefined;
    if (transaction && delivery.deliveries > maxDeliveries) {
      reason = new ErgonError(
        ErrorCode.CONNECTOR_ERROR,
        `entry ${delivery.id} was delivered ${delivery.deliveries} times, more than maxDeliveries (${maxDeliveries}): ` +
          'its processing keeps failing or its consumers keep dying; see why, then add it to the stream again',
        { details: { entry: delivery.id, deliveries: delivery.deliveries, maxDeliveries } },
      );
    }
    if (reason === undefined && transaction) {
      consumer.held.add(delivery.id, delivery.deliveries);
      out[accepted++] = transaction;
    } else {
      refused ??= [];
      refused.push({ delivery, reason, transactionId: transaction?.id });
    }
  }
  if (accepted < out.length) out.length = accepted;
  return refused ? deadLetterRefused(refused, env).then(() => out) : out;
}

async function deadLetterRefused(refused: readonly Refused[], env: AcceptEnv): Promise<void> {
  for (const { delivery, reason, transactionId } of refused) {
    const fields = deadLetterFields(
      { reason, entry: delivery.id, deliveries: delivery.deliveries, transactionId },
      env.options,
    );
    try {
      await env.consumer.settler.deadLetter(delivery.id, fields);
    } catch (error) {
      // Still pending here: the next fetch finds it again and retries.
      env.consumer.lostTrack();
      env.logger.warn(`redis streams: could not dead-letter entry ${delivery.id}`, { error: String(error) });
    }
  }
}
