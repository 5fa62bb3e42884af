/**
 * The durable bridge (DESIGN §3): process each transaction as a durable flow
 * whose id is the transaction id. A crash mid-transaction leaves the flow's
 * history in the store; when the transport redelivers the transaction, the
 * flow resumes after its last finished step, and a finished flow returns its
 * recorded result without running anything again.
 *
 * @module
 */
import {
  type Clock,
  type Codec,
  type Duration,
  ErrorCode,
  hasErrorCode,
  InvalidArgumentError,
  isTerminalStatus,
  type Logger,
  type StoreInput,
  systemClock,
  type Transaction,
  toMillis,
} from '@ergon/core';
import {
  Client,
  Executor,
  FlowCancelledError,
  type FlowDefinition,
  FlowFailedError,
  type FlowInfo,
  type FlowSource,
  toFlowDefinition,
} from '@ergon/executor';
import { timeoutController } from './internal/abort.js';

/** Options of {@link durable}. */
export interface DurableOptions {
  /** Any store: in memory for one process, SQLite or Redis across processes and restarts. */
  readonly store: StoreInput;
  /**
   * The lease this process holds on a flow while it runs it. After a crash,
   * a redelivered transaction resumes once the dead process's lease expired.
   * Default `'15s'`.
   */
  readonly lease?: Duration;
  /** Longest wait between looks while the flow runs elsewhere, sleeps or waits for a signal. Default `'1s'`. */
  readonly pollInterval?: Duration;
  /** Retry backoffs at least this long suspend the flow (see the executor). Default `'5s'`. */
  readonly durableBackoff?: Duration;
  /** Time source of the executor. Default the system clock. */
  readonly clock?: Clock;
  /** Codec of flow inputs and results. Default the core codec. */
  readonly codec?: Codec;
  /** The executor's logger. */
  readonly logger?: Logger;
  /**
   * Flow types this bridge also runs in this process: while the
   * transaction's flow waits on a child (or grandchild) flow of one of these
   * types, the bridge runs the child here once it is claimable. A `Worker`
   * that knows the type may run it instead; without either, a child waits.
   */
  readonly flows?: readonly FlowSource[];
}

/**
 * A transaction's processing as a durable flow. Give it as a consumer's or
 * hybrid's `processTransaction`, or call `run` yourself.
 */
export interface DurableWork<P, O> {
  /** Marks durable work. */
  readonly kind: 'durable-flow';
  /** The type name of the flow each transaction runs as. */
  readonly flowType: string;
  /** Runs (or resumes, or reads the result of) the flow `transaction.id` with the payload as input. */
  run(transaction: Transaction<P>, ctx: { readonly signal: AbortSignal }): Promise<O>;
}

/** True for a {@link DurableWork}. */
export function isDurableWork(value: unknown): value is DurableWork<unknown, unknown> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'durable-flow';
}

/**
 * Makes a flow a task's `processTransaction`: input the payload,
 * `flowId = transaction.id`. Resolves with the flow's result, throws its
 * error (the one the flow failed with), waits while it runs elsewhere or is
 * suspended (timers, signals), and gives up at the stage's signal.
 *
 * ```ts
 * const orders = consumer({ name: 'orders', connectors: { input },
 *   processTransaction: durable(processOrder, { store }) });
 * ```
 *
 * @throws InvalidArgumentError for bad options.
 */
export function durable<P, O>(definition: FlowDefinition<P, O>, options: DurableOptions): DurableWork<P, O> {
  if (!options?.store) throw new InvalidArgumentError('durable() needs a store');
  if (definition?.kind !== 'flow')
    throw new InvalidArgumentError('durable() needs a flow definition (flow(...))');
  const clock = options.clock ?? systemClock;
  const pollMs = toMillis(options.pollInterval ?? '1s', 'pollInterval');
  const shared = {
    store: options.store,
    clock,
    ...(options.codec ? { codec: options.codec } : {}),
  };
  const children = new Set((options.flows ?? []).map((source) => toFlowDefinition(source).name));
  const executor = new Executor({
    ...shared,
    flows: [definition, ...(options.flows ?? [])],
    lease: options.lease ?? '15s',
    durableBackoff: options.durableBackoff ?? '5s',
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const client = new Client(shared);
  const run = async (transaction: Transaction<P>, ctx: { readonly signal: AbortSignal }): Promise<O> => {
    const traceContext = transaction.metadata.traceparent;
    let outcome = await executor.execute(definition, transaction.payload, {
      flowId: transaction.id,
      ...(traceContext ? { traceContext } : {}),
    });
    for (;;) {
      if (outcome.status === 'completed') return outcome.result;
      if (outcome.status === 'failed') throw outcome.error;
      if (outcome.status === 'cancelled') throw outcome.error ?? new FlowCancelledError(transaction.id);
      // Suspended, running elsewhere (maybe under a dead process's lease), not due, or abandoned.
      const info = await client.get(transaction.id, { history: false });
      if (isTerminalStatus(info.status)) return unwrap(() => client.result<O>(transaction.id));
      ctx.signal.throwIfAborted();
      if (children.size > 0 && (await runChildren(info, CHILD_DEPTH))) {
        outcome = await executor.resume(transaction.id);
        continue;
      }
      const wait = Math.max(1, Math.min(pollMs, dueIn(info, clock.now())));
      // A signal of its own per wait: Client.result leaves a listener on it per poll.
      const waiting = timeoutController(undefined, () => new Error('unused'), [ctx.signal]);
      try {
        return await unwrap(() =>
          client.result<O>(transaction.id, { timeout: wait, signal: waiting.signal }),
        );
      } catch (error) {
        if (!hasErrorCode(error, ErrorCode.TIMEOUT) || ctx.signal.aborted) throw error;
      } finally {
        waiting.dispose();
      }
      outcome = await executor.resume<O>(transaction.id);
    }
  };
  /** Runs the claimable children `info` waits on (and theirs); true when one of them finished. */
  const runChildren = async (info: FlowInfo, depth: number): Promise<boolean> => {
    let finished = false;
    for (const wait of info.waits) {
      if (wait.kind !== 'child') continue;
      const child = await client.get(wait.flowId, { history: false }).catch(() => undefined);
      if (!child || !children.has(child.type) || isTerminalStatus(child.status)) continue;
      const outcome = await executor.resume(child.id);
      if (outcome.status === 'suspended' && depth > 1) {
        const after = await client.get(child.id, { history: false });
        if (await runChildren(after, depth - 1)) await executor.resume(child.id);
      }
      const now = await client.get(child.id, { history: false });
      finished ||= isTerminalStatus(now.status);
    }
    return finished;
  };
  return Object.freeze({ kind: 'durable-flow', flowType: definition.name, run });
}

/** How deep the bridge follows children of children. */
const CHILD_DEPTH = 8;

/** Milliseconds until the flow may be claimable: its lease's end, or its due time. */
function dueIn(info: FlowInfo, now: number): number {
  const at = info.status === 'running' ? info.leaseExpiresAt : info.runAt;
  return at === undefined ? Number.POSITIVE_INFINITY : at - now + 1;
}

/** A failed flow's result rethrows the error it failed with, like a first run does. */
async function unwrap<O>(read: () => Promise<O>): Promise<O> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof FlowFailedError && error.cause instanceof Error) throw error.cause;
    throw error;
  }
}
