/**
 * `@ergon/graph`: DAGs of named nodes with typed dependencies, validated when
 * built, run with each node starting the moment its dependencies finish,
 * bounded parallelism, and exports to JSON, DOT, Mermaid and the terminal.
 *
 * @module
 */
export { type RenderAsciiOptions, renderAscii } from './ascii.js';
export {
  type BuilderNodeOptions,
  type DepsOf,
  GraphBuilder,
  graph,
  type NewNodeName,
  type Simplify,
  type TypedNodeRun,
} from './builder.js';
export {
  type ExecuteGraphOptions,
  executeGraph,
  type FailurePolicy,
  type GraphCompleted,
  type GraphFailed,
  type GraphResultBase,
  type GraphResult,
  type RunNode,
} from './execute.js';
export { describeGraph, type GraphJson, type GraphJsonNode, toDot, toJSON, toMermaid } from './export.js';
export { type FromNodesOptions, Graph, type GraphEdge } from './graph.js';
export type {
  GraphNode,
  GraphNodeDefinition,
  NodeContext,
  NodeOptions,
  NodeRun,
  NodeStatus,
} from './types.js';
