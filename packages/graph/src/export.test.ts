import { RetryPolicy } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { graph } from './builder.js';
import { describeGraph, type GraphJson, toDot, toJSON, toMermaid } from './export.js';
import { Graph } from './graph.js';

const checkout = graph<{ id: string }>('checkout')
  .node('validateUser', () => true)
  .node('checkInventory', () => 3)
  .node('checkFraud', { retry: RetryPolicy.NONE, timeout: '5s' }, () => 0.1)
  .node('finalize', { deps: ['validateUser', 'checkInventory', 'checkFraud'] }, () => 'ok')
  .build();

describe('toJSON', () => {
  it('parses back to the same nodes and edges', () => {
    const json = JSON.parse(toJSON(checkout)) as GraphJson;
    expect(json.name).toBe('checkout');
    expect(json.nodes.map((n) => ({ name: n.name, deps: n.deps }))).toEqual(
      checkout.nodes.map((n) => ({ name: n.name, deps: [...n.deps] })),
    );
    expect(json.edges).toEqual([
      { from: 'validateUser', to: 'finalize' },
      { from: 'checkInventory', to: 'finalize' },
      { from: 'checkFraud', to: 'finalize' },
    ]);
    expect(json.order).toEqual([...checkout.order]);
    expect(json.nodes[2]).toMatchObject({ retry: { maxAttempts: 1 }, timeout: '5s' });
    expect(json).toEqual(describeGraph(checkout));
  });
});

describe('toDot and toMermaid', () => {
  it('contain every node and every edge', () => {
    const dot = toDot(checkout);
    expect(dot.startsWith('digraph "checkout" {')).toBe(true);
    for (const node of checkout.nodes) expect(dot).toContain(`"${node.name}" [label="${node.name}"];`);
    for (const { from, to } of checkout.edges()) expect(dot).toContain(`"${from}" -> "${to}";`);

    const mermaid = toMermaid(checkout);
    expect(mermaid).toContain('flowchart TD');
    const ids = new Map<string, string>();
    for (const match of mermaid.matchAll(/^ {2}(n\d+)\["(.*)"\]$/gm)) ids.set(match[2]!, match[1]!);
    expect([...ids.keys()]).toEqual(checkout.nodes.map((n) => n.name));
    for (const { from, to } of checkout.edges())
      expect(mermaid).toContain(`${ids.get(from)} --> ${ids.get(to)}`);
    expect(mermaid.match(/-->/g)).toHaveLength(3);
  });

  it('escape names so none can break out of its quotes', () => {
    const nasty = ['say "hi"', 'back\\slash', 'two\nlines', '<b>#1 & `x`</b>', 'end'];
    const g = Graph.fromNodes(
      nasty.map((name, i) => ({ name, deps: i === 0 ? [] : [nasty[i - 1]!], run: () => 0 })),
      { name: 'we"ird' },
    );
    const dot = toDot(g);
    expect(dot).toContain('digraph "we\\"ird" {');
    expect(dot).toContain('"say \\"hi\\"" [label="say \\"hi\\""];');
    expect(dot).toContain('"back\\\\slash" -> "two\\nlines";');
    // With every quoted string replaced, only the expected statements remain:
    // no name escaped its quotes or spilled onto a line of its own.
    const skeleton = dot
      .replace(/"(?:[^"\\]|\\.)*"/g, 'Q')
      .trim()
      .split('\n');
    const allowed = [
      'digraph Q {',
      '  rankdir=TB;',
      '  node [shape=box];',
      '  Q [label=Q];',
      '  Q -> Q;',
      '}',
    ];
    for (const line of skeleton) expect(allowed).toContain(line);
    expect(skeleton).toHaveLength(3 + 5 + 4 + 1);

    const mermaid = toMermaid(g);
    expect(mermaid).toContain('n0["say #34;hi#34;"]');
    expect(mermaid).toContain('n2["two lines"]');
    expect(mermaid).toContain('n3["#60;b#62;#35;1 #38; #96;x#96;#60;/b#62;"]');
    expect(mermaid).toContain('n4["end"]');
    for (const line of mermaid.trim().split('\n').slice(2))
      expect(line).toMatch(/^ {2}n\d+(\["[^"]*"\]| --> n\d+)$/);
  });
});
