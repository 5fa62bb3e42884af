/**
 * Exports of a graph's shape for tools: JSON for the dashboard and the CLI,
 * DOT for Graphviz, Mermaid for Markdown. Node bodies are never exported.
 *
 * @module
 */
import type { RetryPolicyOptions } from '@ergon/core';
import type { Graph, GraphEdge } from './graph.js';
import { mapControls } from './internal/text.js';

/** The parsed form of {@link toJSON}'s output. */
export interface GraphJson {
  /** The graph's name. */
  readonly name: string;
  /** Nodes in declaration order. */
  readonly nodes: readonly GraphJsonNode[];
  /** One edge per dependency, `from` the dependency `to` the dependent. */
  readonly edges: readonly GraphEdge[];
  /** The graph's topological order (`graph.order`). */
  readonly order: readonly string[];
}

/** One node in {@link GraphJson}. */
export interface GraphJsonNode {
  /** The node's name. */
  readonly name: string;
  /** Its dependencies, in declared order. */
  readonly deps: readonly string[];
  /** Its retry policy's options, when it has one. */
  readonly retry?: RetryPolicyOptions;
  /** Its timeout as given (milliseconds or a duration string), when it has one. */
  readonly timeout?: number | string;
}

/** The graph as a {@link GraphJson} object (what {@link toJSON} serialises). */
export function describeGraph(graph: Graph): GraphJson {
  return {
    name: graph.name,
    nodes: graph.nodes.map((n) => ({
      name: n.name,
      deps: [...n.deps],
      ...(n.retry === undefined ? {} : { retry: n.retry.toOptions() }),
      ...(n.timeout === undefined ? {} : { timeout: n.timeout }),
    })),
    edges: graph.edges(),
    order: [...graph.order],
  };
}

/** The graph as pretty-printed JSON text; `JSON.parse` gives a {@link GraphJson}. */
export function toJSON(graph: Graph): string {
  return JSON.stringify(describeGraph(graph), null, 2);
}

/**
 * The graph in Graphviz DOT (`digraph`, top to bottom). Node ids are the
 * names in double quotes with `\`, `"` and line breaks escaped, so any name
 * is safe; labels show the names as given.
 */
export function toDot(graph: Graph): string {
  const lines = [`digraph ${dotString(graph.name)} {`, '  rankdir=TB;', '  node [shape=box];'];
  for (const node of graph.nodes) lines.push(`  ${dotString(node.name)} [label=${dotString(node.name)}];`);
  for (const { from, to } of graph.edges()) lines.push(`  ${dotString(from)} -> ${dotString(to)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * The graph as a Mermaid `flowchart TD`. Nodes get generated ids (`n0`, `n1`,
 * … in declaration order) and their names as quoted labels with Mermaid
 * entity codes for `"`, `#`, `&`, `<`, `>` and backticks, so no name can
 * break the chart or inject markup.
 */
export function toMermaid(graph: Graph): string {
  const ids = new Map(graph.nodes.map((n, i) => [n.name, `n${i}`]));
  const lines = [`%% ${graph.name.replace(/[\r\n\u2028\u2029]+/g, ' ')}`, 'flowchart TD'];
  for (const node of graph.nodes) lines.push(`  ${ids.get(node.name)}["${mermaidText(node.name)}"]`);
  for (const { from, to } of graph.edges()) lines.push(`  ${ids.get(from)} --> ${ids.get(to)}`);
  return `${lines.join('\n')}\n`;
}

function dotString(text: string): string {
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, '\\n');
  return `"${escaped}"`;
}

function mermaidText(text: string): string {
  return mapControls(text, () => ' ').replace(/["#&<>`]/g, (ch) => `#${ch.codePointAt(0)};`);
}
