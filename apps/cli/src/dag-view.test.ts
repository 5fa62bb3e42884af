// Rebuilding DAGs from history records (unit level: no store, no process).
import type { HistoryEntry } from '@ergon/executor';
import { describe, expect, it } from 'vitest';
import { dagsOf, renderDag } from './dag-view.js';

const entry = (position: number, key: string, fields: Partial<HistoryEntry> = {}): HistoryEntry => ({
  position,
  key,
  kind: key.startsWith('dag:') ? 'dag' : 'step',
  status: 'completed',
  attempts: 1,
  startedAt: 0,
  finishedAt: 1,
  durationMs: 1,
  ...fields,
});

// A run-what-can run of a -> b -> d, c: b failed, d skipped (no record), c completed.
const statuses = { a: 'completed', b: 'failed', c: 'completed', d: 'skipped' };
const shape = {
  name: 'g',
  nodes: [
    { name: 'a', deps: [] },
    { name: 'b', deps: ['a'] },
    { name: 'c', deps: [] },
    { name: 'd', deps: ['b', 'c'] },
  ],
  edges: [],
  order: ['a', 'c', 'b', 'd'],
};
const history = (result: unknown): HistoryEntry[] => [
  entry(0, 'prepare#0'),
  entry(1, 'dag:g#0', { result }),
  entry(2, 'g.a#0'),
  entry(3, 'g.c#0'),
  entry(4, 'g.b#0', { status: 'failed', error: new Error('boom') }),
  entry(6, 'after#0'),
];

describe('dagsOf', () => {
  it('uses the recorded shape and statuses', () => {
    const [view, ...rest] = dagsOf(history({ status: 'failed', statuses, skipped: ['d'], graph: shape }));
    expect(rest).toEqual([]);
    expect(view).toEqual({
      name: 'g',
      position: 1,
      key: 'dag:g#0',
      finished: true,
      shapeRecorded: true,
      nodes: [
        { name: 'a', deps: [], status: 'completed', position: 2 },
        { name: 'c', deps: [], status: 'completed', position: 3 },
        { name: 'b', deps: ['a'], status: 'failed', position: 4 },
        { name: 'd', deps: ['b', 'c'], status: 'skipped', position: undefined },
      ],
    });
    const drawn = renderDag(view!);
    expect(drawn).toContain('graph g (4 nodes): 2 completed, 1 failed, 1 skipped');
    expect(drawn).toContain('⊘ d ◀ b, c');
    expect(drawn).toContain('✘ b ◀ a');
  });

  it('falls back to nodes without edges when the shape is not recorded', () => {
    const [view] = dagsOf(history({ status: 'failed', statuses, skipped: ['d'] }));
    expect(view?.shapeRecorded).toBe(false);
    expect(view?.nodes.map((n) => [n.name, n.status, n.deps])).toEqual([
      ['a', 'completed', []],
      ['b', 'failed', []],
      ['c', 'completed', []],
      ['d', 'skipped', []],
    ]);
    expect(renderDag(view!, 'ascii')).toContain('graph g (4 nodes)');
  });

  it('reads node statuses from the records when the result has none', () => {
    const [view] = dagsOf(history({ something: 'else' }));
    expect(view?.nodes.map((n) => [n.name, n.status])).toEqual([
      ['a', 'completed'],
      ['c', 'completed'],
      ['b', 'failed'],
    ]);
  });

  it('tells apart two runs of one graph and ignores look-alike keys', () => {
    const views = dagsOf([
      entry(0, 'dag:g#0', { result: { statuses: { a: 'completed' } } }),
      entry(1, 'g.a#0'),
      entry(2, 'dag:g#1', { result: { statuses: { a: 'completed' } } }),
      entry(3, 'g.a#1'),
      entry(4, 'g.a#7'),
      entry(5, 'dag:no-number', { kind: 'step' }),
    ]);
    expect(views.map((v) => [v.key, v.nodes.map((n) => n.position)])).toEqual([
      ['dag:g#0', [1]],
      ['dag:g#1', [3]],
    ]);
  });

  it('survives a recorded shape that is not a valid graph', () => {
    const [view] = dagsOf([
      entry(0, 'dag:g#0', {
        result: {
          graph: {
            name: 'g',
            nodes: [
              { name: 'a', deps: ['b'] },
              { name: 'b', deps: ['a'] },
            ],
          },
        },
      }),
    ]);
    expect(renderDag(view!)).toContain('graph g (2 nodes): 2 pending');
  });
});
