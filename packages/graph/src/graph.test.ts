import { ErgonError, ErrorCode, hasErrorCode } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { Graph } from './graph.js';
import type { GraphNodeDefinition } from './types.js';

const run = () => undefined;
const node = (name: string, deps: string[] = []): GraphNodeDefinition => ({ name, deps, run });

function refusal(build: () => unknown): ErgonError {
  try {
    build();
  } catch (error) {
    if (hasErrorCode(error, ErrorCode.DAG_INVALID)) return error;
    throw error;
  }
  throw new Error('expected DAG_INVALID');
}

describe('Graph.fromNodes validation', () => {
  it('refuses a cycle A → B → C → A, naming A, B and C', () => {
    const error = refusal(() => Graph.fromNodes([node('A', ['C']), node('B', ['A']), node('C', ['B'])]));
    expect(error).toBeInstanceOf(ErgonError);
    expect(error.code).toBe(ErrorCode.DAG_INVALID);
    for (const name of ['A', 'B', 'C']) expect(error.message).toContain(name);
    expect(error.message).toContain('cycle: A → B → C → A');
    expect(error.details).toMatchObject({
      reason: 'cycle',
      nodes: ['A', 'B', 'C'],
      cycle: ['A', 'B', 'C', 'A'],
    });
  });

  it('reports only the nodes on the cycle, not those upstream or downstream of it', () => {
    const error = refusal(() =>
      Graph.fromNodes([
        node('root'),
        node('after', ['Y']),
        node('X', ['root', 'Z']),
        node('Y', ['X']),
        node('Z', ['Y']),
      ]),
    );
    expect(error.details).toMatchObject({ reason: 'cycle', cycle: ['X', 'Y', 'Z', 'X'] });
  });

  it('refuses a self-dependency as a cycle', () => {
    const error = refusal(() => Graph.fromNodes([node('solo', ['solo'])]));
    expect(error.details).toMatchObject({ reason: 'cycle', cycle: ['solo', 'solo'] });
  });

  it('refuses an unknown dependency, naming the node and the missing name', () => {
    const error = refusal(() => Graph.fromNodes([node('a'), node('b', ['a', 'ghost'])], { name: 'g' }));
    expect(error.message).toContain('b');
    expect(error.message).toContain('ghost');
    expect(error.details).toMatchObject({
      graph: 'g',
      reason: 'unknown-dependency',
      nodes: ['b', 'ghost'],
      missing: [{ node: 'b', dependency: 'ghost' }],
    });
  });

  it('refuses a duplicate name, naming it', () => {
    const error = refusal(() => Graph.fromNodes([node('a'), node('twin'), node('twin', ['a'])]));
    expect(error.message).toContain('twin');
    expect(error.details).toMatchObject({ reason: 'duplicate-name', nodes: ['twin'] });
  });

  it('refuses repeated dependencies and malformed nodes', () => {
    expect(refusal(() => Graph.fromNodes([node('a'), node('b', ['a', 'a'])])).details).toMatchObject({
      reason: 'duplicate-dependency',
    });
    const bad = [
      [{ name: '', run }],
      [{ name: 'x' }],
      [{ name: 'x', run, deps: 'a' }],
      [{ name: '__proto__', run }],
      [null],
    ] as unknown as GraphNodeDefinition[][];
    for (const nodes of bad)
      expect(refusal(() => Graph.fromNodes(nodes)).details).toMatchObject({ reason: 'bad-node' });
    expect(refusal(() => Graph.fromNodes([], { name: '' })).details).toMatchObject({
      reason: 'bad-graph-name',
    });
  });

  it('quotes odd names in messages', () => {
    const error = refusal(() => Graph.fromNodes([node('a b', ['x\ny'])]));
    expect(error.message).toContain('"a b"');
    expect(error.message).toContain('"x\\ny"');
  });
});

describe('Graph.order', () => {
  it("is Kahn's order with ties broken by declaration order", () => {
    const g = Graph.fromNodes([
      node('d', ['b']),
      node('c'),
      node('b'),
      node('a', ['c']),
      node('e', ['a', 'd']),
    ]);
    // c and b are ready first (c declared first); emitting c readies a,
    // emitting b readies d, and d, declared first of all, goes before a.
    expect(g.order).toEqual(['c', 'b', 'd', 'a', 'e']);
  });

  it('accepts forward references and exposes nodes, dependents and edges', () => {
    const g = Graph.fromNodes([node('late', ['early']), node('early')], { name: 'fwd' });
    expect(g.name).toBe('fwd');
    expect(g.order).toEqual(['early', 'late']);
    expect(g.nodes.map((n) => n.name)).toEqual(['late', 'early']);
    expect(g.dependentsOf('early')).toEqual(['late']);
    expect(g.dependentsOf('nope')).toEqual([]);
    expect(g.edges()).toEqual([{ from: 'early', to: 'late' }]);
    expect(Object.isFrozen(g)).toBe(true);
    expect(Object.isFrozen(g.node('late'))).toBe(true);
  });

  it('allows an empty graph', () => {
    expect(Graph.fromNodes([]).order).toEqual([]);
  });
});
