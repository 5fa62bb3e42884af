/**
 * Consumer tasks: fetch transactions from a source connector and run each
 * through process → success handler | exception handler → ack | nack.
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
import type {
  Awaitable,
  ConnectorMap,
  ExceptionDecision,
  PolicyMap,
  ServiceMap,
  StageContext,
} from './context.js';
import type { ThreadWork } from './thread-work.js';

/** The exception handler of consumers and hybrids. Returning nothing applies the policy's `onFailure`. */
export type ExceptionHandler<P, X> = Handler<
  [transaction: Transaction<P>, error: Error, ctx: X],
  // biome-ignore lint/suspicious/noConfusingVoidType: handlers that return nothing (inferred `void`) must fit.
  Awaitable<ExceptionDecision | undefined | void>
>;

/** Options of {@link consumer}. */
export interface ConsumerOptions<P, R, C extends ConnectorMap, S extends ServiceMap, Pol extends PolicyMap>
  extends TaskDeclaration<C, S, Pol> {
  /** The connector to fetch from. Default `'input'`. */
  readonly source?: keyof C & string;
  /** Ack on success and nack on failure automatically. Default true; false leaves it to the handlers. */
  readonly autoAck?: boolean;
  /** The business logic: a function or `durable(flow, ...)` (async model), or `threadWork(...)` (threaded model). */
  readonly processTransaction:
    | Handler<[transaction: Transaction<P>, ctx: StageContext<C, S, Pol>], Awaitable<R>>
    | ThreadWork<Transaction<P>, R>
    | DurableWork<P, R>;
  /** Runs after a successful process stage, under `retry.success`. Its failure fails the transaction. */
  readonly handleSuccess?: Handler<
    [transaction: Transaction<P>, result: R, ctx: StageContext<C, S, Pol>],
    Awaitable<unknown>
  >;
  /** Runs after a failed stage, under `retry.exception`; may decide the settlement. */
  readonly handleException?: ExceptionHandler<P, StageContext<C, S, Pol>>;
}

/** A defined consumer task. Create with {@link consumer}. */
export interface ConsumerTask<
  P = unknown,
  R = unknown,
  C extends ConnectorMap = ConnectorMap,
  S extends ServiceMap = ServiceMap,
  Pol extends PolicyMap = PolicyMap,
> extends TaskBase<C, S, Pol> {
  /** The task kind. */
  readonly kind: 'consumer';
  /** Name of the connector transactions are fetched from. */
  readonly source: string;
  /** Whether the runner acks and nacks. */
  readonly autoAck: boolean;
  /** `policies.consumer`, or the defaults. */
  readonly policy: ConsumerPolicy;
  /** The process stage's work. */
  readonly processTransaction: ConsumerOptions<P, R, C, S, Pol>['processTransaction'];
  /** The success handler, if any. */
  readonly handleSuccess: ConsumerOptions<P, R, C, S, Pol>['handleSuccess'];
  /** The exception handler, if any. */
  readonly handleException: ConsumerOptions<P, R, C, S, Pol>['handleException'];
}

/**
 * Defines a consumer task. Types flow from the declaration: `ctx.connectors`,
 * `ctx.services` and `ctx.policies` are typed as declared, the payload type
 * from `processTransaction`'s parameter, the result type from its return.
 *
 * ```ts
 * const orders = consumer({
 *   name: 'orders',
 *   connectors: { input: createJsonLinesConnector<Order>({ path: 'orders.jsonl' }) },
 *   policies: { consumer: new ConsumerPolicy({ concurrency: 8 }) },
 *   processTransaction: async (tx: Transaction<Order>, ctx) => charge(tx.payload, ctx.signal),
 * });
 * ```
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`) for a malformed definition.
 */
export function consumer<
  P = unknown,
  R = unknown,
  C extends ConnectorMap = {},
  S extends ServiceMap = {},
  Pol extends PolicyMap = {},
>(options: ConsumerOptions<P, R, C, S, Pol>): ConsumerTask<P, R, C, S, Pol> {
  const base = checkDeclaration('consumer', options, {
    field: 'processTransaction',
    value: options?.processTransaction,
  });
  const source = requireConnector(base, 'source', options.source ?? 'input');
  optionalFunction(base.name, 'handleSuccess', options.handleSuccess);
  optionalFunction(base.name, 'handleException', options.handleException);
  const autoAck = options.autoAck ?? true;
  if (typeof autoAck !== 'boolean') invalidTask(base.name, 'autoAck must be true or false');
  // Built on the base (a literal of checkDeclaration's), not spread from it: a spread's result
  // had a map of its own per task, so the runner's optimised code left ("wrong map") at every run.
  return Object.freeze(
    Object.assign(base, {
      kind: 'consumer' as const,
      source,
      autoAck,
      policy: policyOf(base, 'consumer', ConsumerPolicy, ConsumerPolicy.DEFAULT),
      processTransaction: options.processTransaction,
      handleSuccess: options.handleSuccess,
      handleException: options.handleException,
    }),
  );
}
