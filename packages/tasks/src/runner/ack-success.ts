/**
 * The settlement of a consumer transaction whose stages succeeded: acked
 * when the task settles automatically and its connector can ack. One rule
 * for both lifecycle paths (the fast lane's and {@link TransactionRun}'s).
 *
 * @module
 */
import type { Connector, Transaction } from '@ergon/core';
import { AckGroups, type AckWaiter } from '../internal/ack-groups.js';
import { NO_SETTLEMENT, type SettleResult, settleFailure } from '../internal/settle.js';
import type { ConsumeEnv } from './consume.js';

/** The source connector of a consumer or hybrid (its declaration checked that it exists). */
export function sourceOf(task: ConsumeEnv['task']): Connector<unknown, unknown> {
  return task.connectors[task.source] as Connector<unknown, unknown>;
}

/**
 * Acks `tx` and returns undefined: `waiter` is told when the ack is done.
 * Or returns the settlement at once: none (`autoAck: false`, or a connector
 * without `ack`), or the failure of an `ack` that threw.
 */
export function ackSuccess(env: ConsumeEnv, tx: Transaction, waiter: AckWaiter): SettleResult | undefined {
  const { task } = env;
  if (!task.autoAck) return NO_SETTLEMENT;
  const connector = env.source ?? sourceOf(task);
  if (!connector.ack) return NO_SETTLEMENT;
  let acking: unknown;
  try {
    acking = connector.ack(tx);
  } catch (error) {
    return settleFailure(error);
  }
  // Acks that share a promise (a connector's batch of acks) are waited on together: the run's groups.
  (env.acks ?? new AckGroups()).wait(acking, waiter);
  return undefined;
}
