import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executeGraph } from './execute.js';
import { Graph } from './graph.js';
import type { GraphNodeDefinition } from './types.js';

interface DagCase {
  /** Node count; node i may depend only on nodes j < i, so the graph is acyclic. */
  readonly n: number;
  readonly edges: readonly (readonly [number, number])[];
  /** Seeds the shuffle of the declaration order. */
  readonly seed: number;
  readonly maxParallel: number;
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(n: number, seed: number): number[] {
  const random = prng(seed);
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Kahn's order the slow, obvious way: repeatedly the first declared node whose deps are all out. */
function referenceOrder(definitions: readonly GraphNodeDefinition[]): string[] {
  const out: string[] = [];
  const emitted = new Set<string>();
  while (out.length < definitions.length) {
    const next = definitions.find(
      (d) => !emitted.has(d.name) && (d.deps ?? []).every((x) => emitted.has(x)),
    )!;
    emitted.add(next.name);
    out.push(next.name);
  }
  return out;
}

async function check({ n, edges, seed, maxParallel }: DagCase): Promise<void> {
  const deps = Array.from({ length: n }, () => new Set<number>());
  for (const [x, y] of edges) if (x !== y) deps[Math.max(x, y)]!.add(Math.min(x, y));
  const runs = new Array<number>(n).fill(0);
  const finished = new Array<boolean>(n).fill(false);
  const problems: string[] = [];
  let running = 0;
  let peak = 0;
  const definitions: GraphNodeDefinition[] = shuffled(n, seed).map((i) => ({
    name: `n${i}`,
    deps: [...deps[i]!].map((d) => `n${d}`),
    run: async (got) => {
      runs[i]! += 1;
      running += 1;
      peak = Math.max(peak, running);
      for (const d of deps[i]!) {
        if (!finished[d]) problems.push(`n${i} started before n${d} finished`);
        if (got[`n${d}`] !== d * 2) problems.push(`n${i} got a wrong output for n${d}`);
      }
      // Mix completion timing: some nodes finish in a later macrotask, some in a microtask.
      if (i % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
      else if (i % 3 === 1) await Promise.resolve();
      running -= 1;
      finished[i] = true;
      return i * 2;
    },
  }));

  const g = Graph.fromNodes(definitions);
  const position = new Map(g.order.map((name, index) => [name, index]));
  expect(position.size).toBe(n);
  for (const { from, to } of g.edges()) expect(position.get(from)!).toBeLessThan(position.get(to)!);
  expect(Graph.fromNodes(definitions).order).toEqual(g.order);
  expect(g.order).toEqual(referenceOrder(definitions));

  const result = await executeGraph(g, undefined, { maxParallel });
  expect(problems).toEqual([]);
  expect(runs.every((count) => count === 1)).toBe(true);
  expect(Object.keys(result.outputs)).toHaveLength(n);
  expect(peak).toBeLessThanOrEqual(maxParallel);
}

const dagCase: fc.Arbitrary<DagCase> = fc.integer({ min: 1, max: 1000 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: Math.min(3 * n, 2500) }),
    seed: fc.integer(),
    maxParallel: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 1, max: 16 })),
  }),
);

describe('executeGraph on random DAGs (property)', () => {
  it('runs every node exactly once, after all its dependencies; order is a stable topological order', async () => {
    await fc.assert(fc.asyncProperty(dagCase, check), { numRuns: 40 });
  });

  it('holds at the full size of 1,000 nodes', async () => {
    const random = prng(7);
    const edges = Array.from(
      { length: 2500 },
      () => [Math.floor(random() * 1000), Math.floor(random() * 1000)] as const,
    );
    await check({ n: 1000, edges, seed: 11, maxParallel: 8 });
    await check({ n: 1000, edges: [], seed: 12, maxParallel: Number.POSITIVE_INFINITY });
  });
});
