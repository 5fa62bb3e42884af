import type { GraphNode, GraphNodeDefinition } from '../types.js';
import { formatName, invalidGraph } from './invalid.js';
import { MinHeap } from './min-heap.js';

/** A definition that passed every check, ready to become a `Graph`. */
export interface ValidatedGraph<I> {
  /** Frozen nodes in declaration order. */
  readonly nodes: readonly GraphNode<I>[];
  /** Kahn's order, ties broken by declaration order. */
  readonly order: readonly string[];
  /** For each node, the nodes that depend on it, in declaration order. */
  readonly dependents: ReadonlyMap<string, readonly string[]>;
}

/**
 * Checks a definition and computes its topological order.
 *
 * @throws ErgonError `DAG_INVALID` on a bad name or node shape, a duplicate
 *   name, a repeated or unknown dependency, or a cycle; the first kind found
 *   in that order is reported, naming every node involved.
 */
export function validateGraph<I>(
  graph: string,
  definitions: Iterable<GraphNodeDefinition<I>>,
): ValidatedGraph<I> {
  if (typeof graph !== 'string' || graph.length === 0) {
    throw invalidGraph(String(graph), 'bad-graph-name', 'the graph name must be a non-empty string', {
      nodes: [],
    });
  }
  const nodes = [...definitions].map((definition, index) => normalize(graph, definition, index));
  const indexOf = new Map<string, number>();
  const duplicates = new Set<string>();
  for (const [index, node] of nodes.entries()) {
    if (indexOf.has(node.name)) duplicates.add(node.name);
    else indexOf.set(node.name, index);
  }
  if (duplicates.size > 0) {
    const names = [...duplicates];
    throw invalidGraph(graph, 'duplicate-name', `duplicate node name ${names.map(formatName).join(', ')}`, {
      nodes: names,
    });
  }
  const missing: { node: string; dependency: string }[] = [];
  for (const node of nodes) {
    for (const dependency of node.deps)
      if (!indexOf.has(dependency)) missing.push({ node: node.name, dependency });
  }
  if (missing.length > 0) {
    const text = missing.map(
      (m) => `${formatName(m.node)} depends on unknown node ${formatName(m.dependency)}`,
    );
    const involved = new Set(missing.flatMap((m) => [m.node, m.dependency]));
    throw invalidGraph(graph, 'unknown-dependency', text.join('; '), {
      nodes: [...involved],
      extra: { missing },
    });
  }
  return { nodes, ...sort(graph, nodes, indexOf) };
}

function normalize<I>(graph: string, definition: GraphNodeDefinition<I>, index: number): GraphNode<I> {
  const fail = (problem: string, name?: string) =>
    invalidGraph(graph, 'bad-node', `node #${index} ${problem}`, { nodes: name === undefined ? [] : [name] });
  if (typeof definition !== 'object' || definition === null) throw fail('is not an object');
  const { name, deps = [], run, retry, timeout } = definition;
  if (typeof name !== 'string' || name.length === 0) throw fail('needs a non-empty string name');
  // Names become keys of `deps`, outputs and details objects, which the codec
  // refuses to carry with this key (prototype pollution).
  if (name === '__proto__') throw fail('may not be called "__proto__"; choose another name', name);
  if (typeof run !== 'function') throw fail(`(${formatName(name)}) needs a run function`, name);
  if (!Array.isArray(deps) || deps.some((d) => typeof d !== 'string')) {
    throw fail(`(${formatName(name)}) deps must be an array of node names`, name);
  }
  const repeated = deps.find((d, i) => deps.indexOf(d) !== i);
  if (repeated !== undefined) {
    throw invalidGraph(
      graph,
      'duplicate-dependency',
      `${formatName(name)} lists dependency ${formatName(repeated)} more than once`,
      { nodes: [name, repeated] },
    );
  }
  const node: GraphNode<I> = { name, deps: Object.freeze([...deps]), run };
  if (retry !== undefined) Object.assign(node, { retry });
  if (timeout !== undefined) Object.assign(node, { timeout });
  return Object.freeze(node);
}

function sort<I>(
  graph: string,
  nodes: readonly GraphNode<I>[],
  indexOf: ReadonlyMap<string, number>,
): Omit<ValidatedGraph<I>, 'nodes'> {
  const dependents = new Map<string, string[]>(nodes.map((n) => [n.name, []]));
  for (const node of nodes) for (const dep of node.deps) dependents.get(dep)!.push(node.name);
  const waiting = nodes.map((n) => n.deps.length);
  const ready = new MinHeap();
  for (const [index, count] of waiting.entries()) if (count === 0) ready.push(index);
  const order: string[] = [];
  for (let index = ready.pop(); index !== undefined; index = ready.pop()) {
    const name = nodes[index]!.name;
    order.push(name);
    for (const dependent of dependents.get(name)!) {
      const d = indexOf.get(dependent)!;
      waiting[d]! -= 1;
      if (waiting[d] === 0) ready.push(d);
    }
  }
  if (order.length < nodes.length) {
    const cycle = findCycle(nodes, indexOf, new Set(order));
    throw invalidGraph(graph, 'cycle', `cycle: ${cycle.map(formatName).join(' → ')}`, {
      nodes: cycle.slice(0, -1),
      extra: { cycle },
    });
  }
  for (const list of dependents.values()) Object.freeze(list);
  return { order: Object.freeze(order), dependents };
}

/**
 * One cycle among the nodes Kahn's algorithm could not emit, in edge direction
 * (dependency first) and closed (`[A, B, C, A]`). Every such node has a
 * dependency that was not emitted either, so walking those must loop.
 */
function findCycle<I>(
  nodes: readonly GraphNode<I>[],
  indexOf: ReadonlyMap<string, number>,
  emitted: ReadonlySet<string>,
): string[] {
  const start = nodes.find((n) => !emitted.has(n.name))!;
  const path: string[] = [];
  const seenAt = new Map<string, number>();
  let current = start;
  while (!seenAt.has(current.name)) {
    seenAt.set(current.name, path.length);
    path.push(current.name);
    const next = current.deps.find((d) => !emitted.has(d))!;
    current = nodes[indexOf.get(next)!]!;
  }
  const loop = path.slice(seenAt.get(current.name)).reverse();
  // Start at the node declared first so the message is the same every time.
  let first = 0;
  for (const [i, name] of loop.entries()) if (indexOf.get(name)! < indexOf.get(loop[first]!)!) first = i;
  const rotated = [...loop.slice(first), ...loop.slice(0, first)];
  return [...rotated, rotated[0]!];
}
