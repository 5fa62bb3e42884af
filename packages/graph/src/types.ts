/**
 * The shapes a graph is made of: nodes, their options, and what a node's
 * `run` receives.
 *
 * @module
 */
import type { Duration, RetryPolicy } from '@ergon/core';

/** What a running node is told besides its inputs. */
export interface NodeContext {
  /**
   * Fires when the node should stop: another node failed under `fail-fast`, or
   * the caller's signal aborted. A node that ignores it is still awaited.
   */
  readonly signal: AbortSignal;
  /** The node's name. */
  readonly node: string;
  /** The graph's name. */
  readonly graph: string;
}

/**
 * A node's body, as the executor sees it: dependency outputs by name, the
 * graph input, and the context. May return a value or a promise of one.
 */
export type NodeRun<I = unknown> = (
  deps: Readonly<Record<string, unknown>>,
  input: I,
  ctx: NodeContext,
) => unknown;

/** Options a node carries for the engine; the graph package only stores them. */
export interface NodeOptions {
  /** Retry policy for this node when it runs as a durable step. */
  readonly retry?: RetryPolicy;
  /** Per-attempt timeout for this node when it runs as a durable step. */
  readonly timeout?: Duration;
}

/**
 * A node definition as given to {@link Graph.fromNodes}. Dependencies may name
 * nodes declared later (forward references); validation happens when the
 * graph is built.
 */
export interface GraphNodeDefinition<I = unknown> extends NodeOptions {
  /** Unique, non-empty name within the graph; not `__proto__`. */
  readonly name: string;
  /** Names of the nodes whose outputs this node needs; defaults to none. */
  readonly deps?: readonly string[];
  /** The node's body. */
  readonly run: NodeRun<I>;
}

/** A validated node of a built graph. Frozen. */
export interface GraphNode<I = unknown> extends NodeOptions {
  /** Unique, non-empty name within the graph; not `__proto__`. */
  readonly name: string;
  /** Names of the nodes this node depends on, in declared order; a repeated name is refused at build. */
  readonly deps: readonly string[];
  /**
   * The node's body (see {@link NodeRun}). Declared as a method so a
   * `Graph<Order>` can be passed where a `Graph` (of unknown input) is expected.
   */
  run(deps: Readonly<Record<string, unknown>>, input: I, ctx: NodeContext): unknown;
}

/** Where a node stands in one execution; used by results and renderers. */
export type NodeStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';
