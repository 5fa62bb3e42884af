/**
 * Hybrid tasks: consume a transaction, then dispatch what processing it
 * produced to a target connector, before the input is acked.
 *
 * @module
 */
import type { Transaction } from '@ergon/core';
import type { DurableWork } from '../durable.js';
import { ConsumerPolicy } from '../policies/consumer-policy.js';
import {
  checkDeclaration,
  type Handler,
  invalidTask,
  optionalFunction,
  policyOf,
  requireConnector,
  type TaskBase,
  type TaskDeclaration,
} from './base.js';
import type { ExceptionHandler } from './consumer.js';
import type { Awaitable, ConnectorMap, PolicyMap, ServiceMap, StageContext } from './context.js';
import type { ThreadWork } from './thread-work.js';

/**
 * What a hybrid's processing yields: payloads (made into transactions with
 * ids `<input id>/<index>`, stable across redeliveries) or ready transactions.
 */
export type Produced<O> = readonly (O | Transaction<O>)[];

/** Options of {@link hybrid}. */
export interface HybridOptions<P, O, C extends ConnectorMap, S extends ServiceMap, Pol extends PolicyMap>
  extends TaskDeclaration<C, S, Pol> {
  /** The connector to fetch from. Default `'input'`. */
  readonly source?: keyof C & string;
  /** The connector to dispatch to. Default `'output'`. */
  readonly target?: keyof C & string;
  /** Ack/nack the input automatically. Default true. */
  readonly autoAck?: boolean;
  /** The logic: returns what to dispatch (possibly nothing). A function, or thread work returning payloads. */
  readonly processTransaction:
    | Handler<[transaction: Transaction<P>, ctx: StageContext<C, S, Pol>], Awaitable<Produced<O>>>
    | ThreadWork<Transaction<P>, readonly O[]>
    | DurableWork<P, Produced<O>>;
  /** Runs once the produced transactions were dispatched. */
  readonly handleSuccess?: Handler<
    [transaction: Transaction<P>, produced: readonly Transaction<O>[], ctx: StageContext<C, S, Pol>],
    Awaitable<unknown>
  >;
  /** Runs after a failed process, dispatch or success stage. */
  readonly handleException?: ExceptionHandler<P, StageContext<C, S, Pol>>;
}

/** A defined hybrid task. Create with {@link hybrid}. */
export interface HybridTask<
  P = unknown,
  O = unknown,
  C extends ConnectorMap = ConnectorMap,
  S extends ServiceMap = ServiceMap,
  Pol extends PolicyMap = PolicyMap,
> extends TaskBase<C, S, Pol> {
  /** The task kind. */
  readonly kind: 'hybrid';
  /** Name of the connector transactions are fetched from. */
  readonly source: string;
  /** Name of the connector produced transactions are dispatched to. */
  readonly target: string;
  /** Whether the runner acks and nacks. */
  readonly autoAck: boolean;
  /** `policies.consumer`, or the defaults (its `retry.dispatch` governs dispatch). */
  readonly policy: ConsumerPolicy;
  /** The process stage's work. */
  readonly processTransaction: HybridOptions<P, O, C, S, Pol>['processTransaction'];
  /** The success handler, if any. */
  readonly handleSuccess: HybridOptions<P, O, C, S, Pol>['handleSuccess'];
  /** The exception handler, if any. */
  readonly handleException: HybridOptions<P, O, C, S, Pol>['handleException'];
}

/**
 * Defines a hybrid task (consume, then produce).
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`) for a malformed definition.
 */
export function hybrid<
  P = unknown,
  O = unknown,
  C extends ConnectorMap = {},
  S extends ServiceMap = {},
  Pol extends PolicyMap = {},
>(options: HybridOptions<P, O, C, S, Pol>): HybridTask<P, O, C, S, Pol> {
  const base = checkDeclaration('hybrid', options, {
    field: 'processTransaction',
    value: options?.processTransaction,
  });
  const source = requireConnector(base, 'source', options.source ?? 'input');
  const target = requireConnector(base, 'target', options.target ?? 'output');
  optionalFunction(base.name, 'handleSuccess', options.handleSuccess);
  optionalFunction(base.name, 'handleException', options.handleException);
  const autoAck = options.autoAck ?? true;
  if (typeof autoAck !== 'boolean') invalidTask(base.name, 'autoAck must be true or false');
  // Built on the base, not spread from it (see consumer()).
  return Object.freeze(
    Object.assign(base, {
      kind: 'hybrid' as const,
      source,
      target,
      autoAck,
      policy: policyOf(base, 'consumer', ConsumerPolicy, ConsumerPolicy.DEFAULT),
      processTransaction: options.processTransaction,
      handleSuccess: options.handleSuccess,
      handleException: options.handleException,
    }),
  );
}
