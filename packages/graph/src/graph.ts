/**
 * The built, validated, immutable graph.
 *
 * @module
 */
import { validateGraph } from './internal/validate.js';
import type { GraphNode, GraphNodeDefinition } from './types.js';

/** Options for {@link Graph.fromNodes}. */
export interface FromNodesOptions {
  /** The graph's name, shown in errors and exports; defaults to `'graph'`. */
  readonly name?: string;
}

/** A dependency between two nodes: `to` runs after `from`. */
export interface GraphEdge {
  /** The node depended on. */
  readonly from: string;
  /** The node that depends on it. */
  readonly to: string;
}

/**
 * A validated DAG: no cycles, no unknown dependencies, no duplicate names.
 * Immutable once built, so one graph may run many times, concurrently.
 *
 * `I` is the input every node receives; `O` maps node names to their outputs
 * (inferred by the typed builder, `Record<string, unknown>` for
 * {@link Graph.fromNodes}).
 *
 * Build one with {@link graph} (typed) or {@link Graph.fromNodes} (dynamic).
 */
export class Graph<I = unknown, O extends Record<string, unknown> = Record<string, unknown>> {
  /** The graph's name. */
  readonly name: string;
  /** Every node, in declaration order. */
  readonly nodes: readonly GraphNode<I>[];
  /**
   * A topological order: Kahn's algorithm, ties broken by declaration order.
   * The same definition always yields the same order, whatever happens at run
   * time, so a durable engine may reserve history positions in this order.
   */
  readonly order: readonly string[];
  /** Type-only carrier of `I` and `O`; always `undefined` at run time. */
  declare readonly '~types'?: {
    /** The graph's input type. */
    readonly input: I;
    /** The nodes' output types by name. */
    readonly outputs: O;
  };

  readonly #byName: ReadonlyMap<string, GraphNode<I>>;
  readonly #dependents: ReadonlyMap<string, readonly string[]>;

  private constructor(name: string, definitions: Iterable<GraphNodeDefinition<I>>) {
    const { nodes, order, dependents } = validateGraph(name, definitions);
    this.name = name;
    this.nodes = Object.freeze([...nodes]);
    this.order = order;
    this.#byName = new Map(nodes.map((n) => [n.name, n]));
    this.#dependents = dependents;
    Object.freeze(this);
  }

  /**
   * Builds a graph from plain node definitions, for graphs assembled at run
   * time or from JSON. Dependencies may refer to nodes defined later.
   *
   * @throws ErgonError `DAG_INVALID` naming the nodes involved when the
   *   definition has a cycle, an unknown dependency, a duplicate name, a
   *   repeated dependency, or a malformed node.
   */
  static fromNodes<I = unknown>(
    nodes: Iterable<GraphNodeDefinition<I>>,
    options: FromNodesOptions = {},
  ): Graph<I, Record<string, unknown>> {
    return new Graph<I, Record<string, unknown>>(options.name ?? 'graph', nodes);
  }

  /** The node called `name`, or `undefined`. */
  node(name: string): GraphNode<I> | undefined {
    return this.#byName.get(name);
  }

  /** The names of the nodes that depend directly on `name`, in declaration order; empty if unknown. */
  dependentsOf(name: string): readonly string[] {
    return this.#dependents.get(name) ?? [];
  }

  /** Every edge as `{ from: dependency, to: dependent }`, grouped by dependent in declaration order. */
  edges(): GraphEdge[] {
    return this.nodes.flatMap((n) => n.deps.map((from) => ({ from, to: n.name })));
  }
}
