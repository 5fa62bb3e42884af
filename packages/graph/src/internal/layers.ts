import type { Graph } from '../graph.js';

/**
 * Groups nodes by longest path from a root: layer 0 holds the nodes without
 * dependencies, layer k the nodes whose deepest dependency is in layer k − 1.
 * Within a layer, nodes keep `graph.order`.
 */
export function layersOf(graph: Graph): string[][] {
  const depth = new Map<string, number>();
  const layers: string[][] = [];
  for (const name of graph.order) {
    const deps = graph.node(name)!.deps;
    const d = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((dep) => depth.get(dep)!));
    depth.set(name, d);
    const layer = layers[d];
    if (layer === undefined) layers[d] = [name];
    else layer.push(name);
  }
  return layers;
}
