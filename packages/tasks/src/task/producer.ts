/**
 * Producer tasks: take items from the task's own source, prepare each into a
 * transaction, and dispatch them in batches to a target connector.
 *
 * @module
 */
import type { Transaction } from '@ergon/core';
import { ProducerPolicy } from '../policies/producer-policy.js';
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
import type { Awaitable, ConnectorMap, PolicyMap, ServiceMap, StageContext, TaskContext } from './context.js';
import type { ThreadWork } from './thread-work.js';

/** Options of {@link producer}. */
export interface ProducerOptions<I, O, C extends ConnectorMap, S extends ServiceMap, Pol extends PolicyMap>
  extends TaskDeclaration<C, S, Pol> {
  /** The connector to dispatch to. Default `'output'`. */
  readonly target?: keyof C & string;
  /**
   * The items to produce from, read lazily (an array, a generator, an async
   * generator). In a process pool each process calls it; split the work with `ctx.worker`.
   */
  readonly items: Handler<[ctx: TaskContext<C, S, Pol>], Iterable<I> | AsyncIterable<I>>;
  /**
   * Turns an item into a payload (wrapped in a new transaction carrying the
   * trace context) or a ready transaction. A function, or thread work returning a payload.
   */
  readonly prepareTransaction:
    | Handler<[item: I, ctx: StageContext<C, S, Pol>], Awaitable<O | Transaction<O>>>
    | ThreadWork<I, O>;
  /** Runs for each transaction once its batch was dispatched. */
  readonly handleSuccess?: Handler<
    [transaction: Transaction<O>, ctx: StageContext<C, S, Pol>],
    Awaitable<unknown>
  >;
  /** Runs for an item whose prepare or dispatch failed for good. */
  readonly handleException?: Handler<
    [item: I, error: Error, ctx: StageContext<C, S, Pol>],
    Awaitable<unknown>
  >;
}

/** A defined producer task. Create with {@link producer}. */
export interface ProducerTask<
  I = unknown,
  O = unknown,
  C extends ConnectorMap = ConnectorMap,
  S extends ServiceMap = ServiceMap,
  Pol extends PolicyMap = PolicyMap,
> extends TaskBase<C, S, Pol> {
  /** The task kind. */
  readonly kind: 'producer';
  /** Name of the connector transactions are dispatched to. */
  readonly target: string;
  /** `policies.producer`, or the defaults. */
  readonly policy: ProducerPolicy;
  /** Where the items come from. */
  readonly items: ProducerOptions<I, O, C, S, Pol>['items'];
  /** The prepare stage's work. */
  readonly prepareTransaction: ProducerOptions<I, O, C, S, Pol>['prepareTransaction'];
  /** The success handler, if any. */
  readonly handleSuccess: ProducerOptions<I, O, C, S, Pol>['handleSuccess'];
  /** The exception handler, if any. */
  readonly handleException: ProducerOptions<I, O, C, S, Pol>['handleException'];
}

/**
 * Defines a producer task.
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`) for a malformed definition.
 */
export function producer<
  I = unknown,
  O = unknown,
  C extends ConnectorMap = {},
  S extends ServiceMap = {},
  Pol extends PolicyMap = {},
>(options: ProducerOptions<I, O, C, S, Pol>): ProducerTask<I, O, C, S, Pol> {
  const base = checkDeclaration('producer', options, {
    field: 'prepareTransaction',
    value: options?.prepareTransaction,
  });
  const target = requireConnector(base, 'target', options.target ?? 'output');
  if (typeof options.items !== 'function')
    invalidTask(base.name, 'items must be a function returning an iterable');
  optionalFunction(base.name, 'handleSuccess', options.handleSuccess);
  optionalFunction(base.name, 'handleException', options.handleException);
  // Built on the base, not spread from it (see consumer()).
  return Object.freeze(
    Object.assign(base, {
      kind: 'producer' as const,
      target,
      policy: policyOf(base, 'producer', ProducerPolicy, ProducerPolicy.DEFAULT),
      items: options.items,
      prepareTransaction: options.prepareTransaction,
      handleSuccess: options.handleSuccess,
      handleException: options.handleException,
    }),
  );
}
