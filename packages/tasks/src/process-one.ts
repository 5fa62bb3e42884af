/**
 * One transaction through a task's lifecycle, outside any loop: for the
 * `ergon` CLI ("process this payload"), for debugging, and for unit tests of
 * tasks with plain transactions.
 *
 * @module
 */
import {
  createTransaction,
  ErrorCode,
  InvalidArgumentError,
  isTransaction,
  type Logger,
  noopLogger,
  type Transaction,
  type TransactionInit,
} from '@ergon/core';
import type { ConsumerTask } from './task/consumer.js';
import type { ConnectorMap, PolicyMap, ServiceMap, WorkerInfo } from './task/context.js';
import type { HybridTask } from './task/hybrid.js';
import type { TransactionOutcome } from './task/outcome.js';
import type { ProducerTask } from './task/producer.js';
import type { Task } from './task/task.js';
import { CancelScope } from './internal/scope.js';
import { ThreadPool } from './threads/thread-pool.js';
import { consumeTransaction } from './runner/consume.js';
import { startDependencies } from './runner/dependencies.js';
import { produceBatch } from './runner/produce.js';

/** Options of {@link processOne}. */
export interface ProcessOneOptions {
  /** Aborting it abandons the work (its outcome is `aborted`). */
  readonly signal?: AbortSignal;
  /**
   * Ack or nack through the source connector as a run would. Default false:
   * a transaction built from a payload was never fetched, so there is nothing to settle.
   */
  readonly settle?: boolean;
  /** Start the task's services and connectors first and stop them after. Default true. */
  readonly startDependencies?: boolean;
  /** Where handlers' `ctx.logger` writes. Default: nowhere. */
  readonly logger?: Logger;
  /** `ctx.worker` to present. Default `{ index: 0, count: 1 }`. */
  readonly worker?: WorkerInfo;
}

/** Runs one transaction (given whole, or as `{ payload, id?, metadata? }`) through a consumer or hybrid. */
export function processOne<P, R>(
  task:
    | ConsumerTask<P, R, ConnectorMap, ServiceMap, PolicyMap>
    | HybridTask<P, R, ConnectorMap, ServiceMap, PolicyMap>,
  transaction: Transaction<P> | TransactionInit<P>,
  options?: ProcessOneOptions,
): Promise<TransactionOutcome>;
/** Runs one item through a producer: prepare, dispatch, handlers. */
export function processOne<I, O>(
  task: ProducerTask<I, O, ConnectorMap, ServiceMap, PolicyMap>,
  item: I,
  options?: ProcessOneOptions,
): Promise<TransactionOutcome>;
export async function processOne(
  task: Task,
  input: unknown,
  options: ProcessOneOptions = {},
): Promise<TransactionOutcome> {
  const hardStop = options.signal ?? new AbortController().signal;
  const logger = options.logger ?? noopLogger;
  const context = {
    task: task.name,
    connectors: task.connectors,
    services: task.services,
    policies: task.policies,
    logger,
    worker: options.worker ?? { index: 0, count: 1 },
  };
  const stop =
    options.startDependencies === false ? async () => {} : await startDependencies(task, hardStop, logger);
  const threads = task.model === 'threaded' ? new ThreadPool(1) : undefined;
  const hard = CancelScope.fromSignal(hardStop);
  try {
    if (task.kind === 'producer') {
      const [outcome] = await produceBatch({ task, context, threads, hardStop: hard.scope }, [input]);
      return outcome as TransactionOutcome;
    }
    const given = isTransaction(input) && Object.isFrozen(input);
    const transaction = given ? (input as Transaction) : createTransaction(input as TransactionInit<unknown>);
    const settling = { ...task, autoAck: task.autoAck && options.settle === true };
    return await consumeTransaction({ task: settling, context, threads, hardStop: hard.scope }, transaction);
  } finally {
    hard.dispose();
    await threads?.close();
    await stop();
  }
}

/** Options of {@link findTransaction}. */
export interface FindTransactionOptions {
  /** The connector to look in. Default the task's source. */
  readonly connector?: string;
  /** Aborts the lookup. */
  readonly signal?: AbortSignal;
}

/**
 * Looks the transaction `id` up in a consumer's or hybrid's source (or the
 * connector named in `options`) without claiming it, to give it to
 * {@link processOne}: "process transaction `id` again". The connector is
 * started for the lookup and stopped after it.
 *
 * @returns the transaction, or `undefined` when the transport has none with that id.
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`) for a producer, an unknown
 *   connector, or one that cannot look transactions up (it has no `findTransaction`).
 */
export async function findTransaction(
  task: Task,
  id: string,
  options: FindTransactionOptions = {},
): Promise<Transaction | undefined> {
  const invalid = (message: string): never => {
    throw new InvalidArgumentError(`task ${JSON.stringify(task.name)}: ${message}`, {
      code: ErrorCode.INVALID_ARGUMENT,
    });
  };
  const name = options.connector ?? (task.kind === 'producer' ? undefined : task.source);
  if (name === undefined) {
    return invalid(
      'a producer has no source to look transactions up in; name a connector, or give a payload',
    );
  }
  const connectors = task.connectors as ConnectorMap;
  const connector = Object.hasOwn(connectors, name) ? connectors[name] : undefined;
  if (!connector) {
    return invalid(
      `has no connector '${name}' (it has ${
        Object.keys(connectors)
          .map((k) => `'${k}'`)
          .join(', ') || 'none'
      })`,
    );
  }
  if (typeof connector.findTransaction !== 'function') {
    return invalid(
      `connector '${name}' (${connector.name}) cannot look transactions up by id; give the payload instead`,
    );
  }
  await connector.start?.(options.signal);
  try {
    return await connector.findTransaction(id, options.signal ? { signal: options.signal } : {});
  } finally {
    await connector.stop?.();
  }
}
