/**
 * The typed builder: nodes declared one after another, each able to depend
 * only on nodes declared before it, so dependency outputs are typed.
 *
 * @module
 */
import { Graph } from './graph.js';
import { invalidGraph } from './internal/invalid.js';
import type { GraphNodeDefinition, NodeContext, NodeOptions, NodeRun } from './types.js';

/** Flattens an intersection of object types for readable hovers. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The `deps` argument of a node depending on the names in `D`, given outputs `O`. */
export type DepsOf<O, D extends readonly PropertyKey[]> = { readonly [K in D[number] & keyof O]: O[K] };

/**
 * A name not declared yet: resolves to `N`, or to an explanatory string type
 * (so the call fails to compile) when `N` is already one of `keyof O`.
 */
export type NewNodeName<N extends string, O> = N extends keyof O ? `node "${N}" is already declared` : N;

/** Options of a typed node: its dependencies (already-declared names) and engine options. */
export interface BuilderNodeOptions<D extends readonly string[]> extends NodeOptions {
  /** Names of earlier nodes whose outputs this node receives; defaults to none. */
  readonly deps?: D;
}

/** The body of a typed node: typed dependency outputs, the graph input, the context. */
export type TypedNodeRun<I, Deps, R> = (deps: Deps, input: I, ctx: NodeContext) => R;

/**
 * An immutable, typed graph builder: every {@link GraphBuilder.node} call
 * returns a new builder, so a partly built graph can be extended in two ways
 * without interference. `O` accumulates node outputs by name.
 */
export class GraphBuilder<I, O extends Record<string, unknown> = {}> {
  /** Type-only carrier of `I` and `O`; always `undefined` at run time. */
  declare readonly '~types'?: {
    /** The graph's input type. */
    readonly input: I;
    /** The nodes' output types by name. */
    readonly outputs: O;
  };
  readonly #name: string;
  #nodes: readonly GraphNodeDefinition<I>[] = [];

  /** Prefer {@link graph}. `name` names the graph in errors and exports. */
  constructor(name: string) {
    this.#name = name;
  }

  /**
   * Adds a node without dependencies. `run` gets an empty `deps`, the graph
   * input and the context; its awaited result becomes output `name`.
   */
  node<N extends string, R>(
    name: NewNodeName<N, O>,
    run: TypedNodeRun<I, DepsOf<O, []>, R>,
  ): GraphBuilder<I, O & { [K in N]: Awaited<R> }>;
  /**
   * Adds a node with options. `options.deps` may name only nodes declared
   * before; `run` receives their outputs typed by name.
   */
  node<N extends string, const D extends readonly (keyof O & string)[] = [], R = unknown>(
    name: NewNodeName<N, O>,
    options: BuilderNodeOptions<D>,
    run: TypedNodeRun<I, DepsOf<O, D>, R>,
  ): GraphBuilder<I, O & { [K in N]: Awaited<R> }>;
  node(name: string, optionsOrRun: unknown, maybeRun?: unknown): unknown {
    const options = typeof optionsOrRun === 'function' ? {} : optionsOrRun;
    const run = typeof optionsOrRun === 'function' ? optionsOrRun : maybeRun;
    if (typeof options !== 'object' || options === null) {
      throw invalidGraph(this.#name, 'bad-node', `node ${JSON.stringify(name)} options must be an object`, {
        nodes: [String(name)],
      });
    }
    const next = new GraphBuilder<I, Record<string, unknown>>(this.#name);
    next.#nodes = [...this.#nodes, { ...options, name, run: run as NodeRun<I> }];
    return next;
  }

  /**
   * Validates and returns the graph.
   *
   * @throws ErgonError `DAG_INVALID` naming the nodes involved (a duplicate
   *   name, or anything the types could not rule out, such as casts).
   */
  build(): Graph<I, Simplify<O>> {
    return Graph.fromNodes<I>(this.#nodes, { name: this.#name }) as unknown as Graph<I, Simplify<O>>;
  }
}

/**
 * Starts a typed graph whose nodes all receive an input of type `I`.
 *
 * @example
 * ```ts
 * const g = graph<Order>('checkout')
 *   .node('validateUser', async (_deps, order) => ({ ok: order.userId !== '' }))
 *   .node('checkInventory', async (_deps, order) => order.items.length)
 *   .node('finalize', { deps: ['validateUser', 'checkInventory'] },
 *     async (deps) => deps.validateUser.ok && deps.checkInventory > 0)
 *   .build();
 * ```
 */
export function graph<I = void>(name: string): GraphBuilder<I> {
  return new GraphBuilder<I>(name);
}
