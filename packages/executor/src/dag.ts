/**
 * Types for `ctx.dag`: running an `@ergon/graph` DAG inside a flow.
 *
 * @module
 */
import type { FailurePolicy, Graph, GraphJson, GraphResult } from '@ergon/graph';

/** Any built graph. */
// biome-ignore lint/suspicious/noExplicitAny: accepts graphs of every input and output type.
export type AnyGraph = Graph<any, any>;

/** Options of `ctx.dag`. */
export interface DagOptions {
  /** Most nodes running at once. Default unbounded. */
  readonly maxParallel?: number;
  /** `fail-fast` (default: throws `DAG_FAILED`) or `run-what-can` (resolves with failed and skipped nodes). */
  readonly failurePolicy?: FailurePolicy;
}

/** The input type of a graph. */
export type GraphInputOf<G> = G extends Graph<infer I, infer _O> ? I : never;

/** What `ctx.dag` resolves with for a graph: the graph's result and its shape (as recorded in history). */
export type DagResultOf<G> =
  G extends Graph<infer _I, infer O>
    ? GraphResult<O> & {
        /** The graph's shape, as recorded in the flow's history (for the CLI and the dashboard). */
        readonly graph: GraphJson;
      }
    : never;
