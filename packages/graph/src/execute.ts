/**
 * Running a graph: each node as soon as its dependencies finish, bounded
 * parallelism, fail-fast or run-what-can.
 *
 * @module
 */
import { InvalidArgumentError } from '@ergon/core';
import type { Graph } from './graph.js';
import { runGraph } from './internal/run-graph.js';
import type { GraphNode, NodeContext, NodeStatus } from './types.js';

/**
 * What happens when a node fails.
 * - `fail-fast`: start nothing new, abort running nodes' signal, wait for them,
 *   then reject with `DAG_FAILED`.
 * - `run-what-can`: keep running every node that does not depend (directly or
 *   not) on a failed one; skip the rest; resolve with a `failed` result.
 */
export type FailurePolicy = 'fail-fast' | 'run-what-can';

/**
 * Runs one node. The default calls `node.run(deps, input, ctx)`; a durable
 * engine passes its own to run each node as a durable step. It must settle
 * once; its rejection is the node's failure.
 */
export type RunNode<I = unknown> = (
  node: GraphNode<I>,
  deps: Readonly<Record<string, unknown>>,
  input: I,
  ctx: NodeContext,
) => Promise<unknown>;

/** Options for {@link executeGraph}. */
export interface ExecuteGraphOptions<I = unknown> {
  /** Most nodes running at once: a whole number ≥ 1, or `Infinity` (the default). */
  readonly maxParallel?: number;
  /** What a node failure does; defaults to `'fail-fast'`. */
  readonly failurePolicy?: FailurePolicy;
  /**
   * Stops the execution like a fail-fast failure: nothing new starts, running
   * nodes' signal fires, and once they settle the call rejects with `ABORTED`.
   */
  readonly signal?: AbortSignal;
  /** Runs each node; see {@link RunNode}. */
  readonly runNode?: RunNode<I>;
}

/** Fields every {@link GraphResult} has. */
export interface GraphResultBase {
  /** Errors of failed nodes by name, in failure order. */
  readonly failed: Readonly<Record<string, Error>>;
  /** Nodes that never ran because something they depend on failed, in `graph.order`. */
  readonly skipped: readonly string[];
  /** Final status of every node, in `graph.order`; feed it to `renderAscii`. */
  readonly statuses: Readonly<Record<string, NodeStatus>>;
}

/** Every node completed. */
export interface GraphCompleted<O> extends GraphResultBase {
  /** Discriminant. */
  readonly status: 'completed';
  /** Every node's output by name. */
  readonly outputs: O;
}

/** Some nodes failed under `run-what-can`; everything else that could run did. */
export interface GraphFailed<O> extends GraphResultBase {
  /** Discriminant. */
  readonly status: 'failed';
  /** Outputs of the nodes that completed. */
  readonly outputs: Partial<O>;
}

/** The result of {@link executeGraph}. */
export type GraphResult<O> = GraphCompleted<O> | GraphFailed<O>;

/**
 * Runs `graph` on `input`. Each node starts the moment all its dependencies
 * have finished (never in waves), with at most `maxParallel` running; among
 * ready nodes, the one earlier in `graph.order` starts first. No rejection of
 * a node escapes unobserved, and the call settles only after every node it
 * started has settled.
 *
 * With `fail-fast` (the default) the promise resolves only when every node
 * completed.
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`) for a bad `maxParallel` or `failurePolicy`.
 * @throws ErgonError `DAG_FAILED` under `fail-fast` when a node fails: `cause` is
 *   the first error, `details.failed` names every node that failed (first first),
 *   `details.statuses` gives each node's final status.
 * @throws ErgonError `ABORTED` when `options.signal` aborts (whatever the policy):
 *   `cause` is the signal's reason, details as above.
 */
export function executeGraph<I, O extends Record<string, unknown>>(
  graph: Graph<I, O>,
  input: NoInfer<I>,
  options?: ExecuteGraphOptions<NoInfer<I>> & { readonly failurePolicy?: 'fail-fast' },
): Promise<GraphCompleted<O>>;
export function executeGraph<I, O extends Record<string, unknown>>(
  graph: Graph<I, O>,
  input: NoInfer<I>,
  options: ExecuteGraphOptions<NoInfer<I>>,
): Promise<GraphResult<O>>;
export async function executeGraph<I, O extends Record<string, unknown>>(
  graph: Graph<I, O>,
  input: I,
  options: ExecuteGraphOptions<I> = {},
): Promise<GraphResult<O>> {
  const { maxParallel = Number.POSITIVE_INFINITY, failurePolicy = 'fail-fast', signal, runNode } = options;
  if (maxParallel !== Number.POSITIVE_INFINITY && !(Number.isInteger(maxParallel) && maxParallel >= 1)) {
    throw new InvalidArgumentError(
      `maxParallel must be a whole number ≥ 1 or Infinity (got ${String(maxParallel)})`,
      { details: { maxParallel: String(maxParallel) } },
    );
  }
  if (failurePolicy !== 'fail-fast' && failurePolicy !== 'run-what-can') {
    throw new InvalidArgumentError(
      `failurePolicy must be 'fail-fast' or 'run-what-can' (got ${JSON.stringify(failurePolicy)})`,
      { details: { failurePolicy: String(failurePolicy) } },
    );
  }
  const outcome = await runGraph(graph as Graph<I>, input, {
    maxParallel,
    failFast: failurePolicy === 'fail-fast',
    signal,
    runNode: runNode ?? ((node, deps, nodeInput, ctx) => node.run(deps, nodeInput, ctx)),
  });
  const base = { failed: outcome.failed, skipped: outcome.skipped, statuses: outcome.statuses };
  return Object.keys(outcome.failed).length === 0
    ? { status: 'completed', outputs: outcome.outputs as O, ...base }
    : { status: 'failed', outputs: outcome.outputs as Partial<O>, ...base };
}
