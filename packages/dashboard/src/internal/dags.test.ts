import type { HistoryEntry } from '@ergon/executor';
import { describe, expect, it } from 'vitest';
import { dagsOf } from './dags.js';

const entry = (position: number, key: string, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
  position,
  key,
  kind: 'step',
  status: 'completed',
  attempts: 1,
  startedAt: 0,
  finishedAt: 1,
  ...extra,
});

describe('dagsOf', () => {
  it('lays out a finished DAG from its recorded shape, with each node’s status and edges', () => {
    const graph = {
      name: 'checks',
      nodes: [
        { name: 'a', deps: [] },
        { name: 'b', deps: ['a'] },
        { name: 'c', deps: ['a'] },
      ],
      order: ['a', 'b', 'c'],
    };
    const [dag] = dagsOf(
      [
        entry(0, 'prepare#0', { kind: 'run' }),
        entry(1, 'dag:checks#0', {
          kind: 'dag',
          result: { statuses: { a: 'completed', b: 'failed', c: 'skipped' }, graph },
        }),
        entry(2, 'checks.a#0'),
        entry(3, 'checks.b#0', { status: 'failed' }),
      ],
      false,
    );
    expect(dag?.shapeRecorded).toBe(true);
    expect(dag?.nodes.map((n) => [n.name, n.status, n.position])).toEqual([
      ['a', 'completed', 2],
      ['b', 'failed', 3],
      ['c', 'skipped', undefined],
    ]);
    expect(dag?.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual(['a>b', 'a>c']);
    for (const n of dag?.nodes ?? []) expect(n.width).toBeGreaterThan(0);
  });

  it('draws a running DAG with its edges from the shape recorded when it started', () => {
    const graph = {
      name: 'checks',
      nodes: [
        { name: 'a', deps: [] },
        { name: 'b', deps: ['a'] },
      ],
      order: ['a', 'b'],
    };
    const [dag] = dagsOf(
      [
        entry(0, 'dag:checks#0', {
          kind: 'dag',
          status: 'waiting',
          finishedAt: undefined,
          result: { graph },
        }),
        entry(1, 'checks.a#0'),
      ],
      true,
    );
    expect(dag?.shapeRecorded).toBe(true);
    expect(dag?.nodes.map((n) => [n.name, n.status])).toEqual([
      ['a', 'completed'],
      ['b', 'pending'],
    ]);
    expect(dag?.edges.map((e) => `${e.from}>${e.to}`)).toEqual(['a>b']);
  });

  it('finds a DAG still running by its node records after the empty dag position, without edges', () => {
    const history = [
      entry(0, 'prepare#0', { kind: 'run' }),
      entry(2, 'checks.a#0'),
      entry(3, 'checks.b#0', { status: 'waiting', finishedAt: undefined }),
    ];
    const [dag] = dagsOf(history, true);
    expect(dag).toMatchObject({ name: 'checks', position: 1, shapeRecorded: false, edges: [] });
    expect(dag?.nodes.map((n) => [n.name, n.status])).toEqual([
      ['a', 'completed'],
      ['b', 'running'],
    ]);
    expect(dagsOf(history, false)).toEqual([]);
  });
});
