/**
 * `dagRunsOf`: DAG runs read back from histories, those this executor writes
 * (the shape recorded when a DAG starts, then its final record) and those of
 * older executors (no shape, or no record while the DAG ran).
 */
import { graph } from '@ergon/graph';
import { describe, expect, it } from 'vitest';
import { type DagHistoryEntry, dagRunsOf, flow } from '../src/index.js';
import { harness, until } from './support.js';

const entry = (position: number, key: string, fields: Partial<DagHistoryEntry> = {}): DagHistoryEntry => ({
  position,
  key,
  kind: key.startsWith('dag:') ? 'dag' : 'step',
  status: 'completed',
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
  order: ['a', 'c', 'b', 'd'],
};
const history = (result: unknown, status: DagHistoryEntry['status'] = 'completed'): DagHistoryEntry[] => [
  entry(0, 'prepare#0'),
  entry(1, 'dag:g#0', { result, status }),
  entry(2, 'g.a#0'),
  entry(3, 'g.c#0'),
  entry(4, 'g.b#0', { status: 'failed' }),
  entry(6, 'after#0'),
];

describe('dagRunsOf on recorded histories', () => {
  it('takes the shape and the statuses of a finished DAG, nodes in topological order', () => {
    expect(dagRunsOf(history({ status: 'failed', statuses, graph: shape }))).toEqual([
      {
        name: 'g',
        key: 'dag:g#0',
        position: 1,
        finished: true,
        shapeRecorded: true,
        nodes: [
          { name: 'a', deps: [], status: 'completed', position: 2 },
          { name: 'c', deps: [], status: 'completed', position: 3 },
          { name: 'b', deps: ['a'], status: 'failed', position: 4 },
          { name: 'd', deps: ['b', 'c'], status: 'skipped', position: undefined },
        ],
      },
    ]);
  });

  it('draws a running DAG from the shape recorded when it started, statuses from the node records', () => {
    const [run] = dagRunsOf(history({ graph: shape }, 'waiting'));
    expect(run).toMatchObject({ finished: false, shapeRecorded: true });
    expect(run?.nodes.map((n) => [n.name, n.status, n.deps])).toEqual([
      ['a', 'completed', []],
      ['c', 'completed', []],
      ['b', 'failed', ['a']],
      ['d', 'pending', ['b', 'c']],
    ]);
  });

  it('falls back to nodes without edges when an older executor recorded no shape', () => {
    const [run] = dagRunsOf(history({ status: 'failed', statuses }));
    expect(run?.shapeRecorded).toBe(false);
    expect(run?.nodes.map((n) => [n.name, n.status, n.deps])).toEqual([
      ['a', 'completed', []],
      ['b', 'failed', []],
      ['c', 'completed', []],
      ['d', 'skipped', []],
    ]);
    // No statuses either: the run of matching node keys, statuses from their records.
    expect(dagRunsOf(history({ other: 1 }))[0]?.nodes.map((n) => [n.name, n.status])).toEqual([
      ['a', 'completed'],
      ['c', 'completed'],
      ['b', 'failed'],
    ]);
  });

  it('finds a running DAG of an older executor (no record yet) by its nodes, only while the flow runs', () => {
    const old = [
      entry(0, 'prepare#0', { kind: 'run' }),
      entry(2, 'checks.a#0'),
      entry(3, 'checks.b#0', { status: 'waiting' }),
    ];
    expect(dagRunsOf(old, { running: true })).toEqual([
      {
        name: 'checks',
        key: 'dag:checks#0',
        position: 1,
        finished: false,
        shapeRecorded: false,
        nodes: [
          { name: 'a', deps: [], status: 'completed', position: 2 },
          { name: 'b', deps: [], status: 'running', position: 3 },
        ],
      },
    ]);
    expect(dagRunsOf(old)).toEqual([]);
  });

  it('ignores a shape recorded for another graph name', () => {
    const [run] = dagRunsOf(history({ statuses, graph: { ...shape, name: 'other' } }));
    expect(run?.shapeRecorded).toBe(false);
  });
});

describe('dagRunsOf on a real run', () => {
  const h = harness();

  it('sees a running DAG with its edges, then the finished one', async () => {
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const g = graph<void>('shaped')
      .node('load', () => 1)
      .node('wait', async () => {
        await gate;
        return 2;
      })
      .node('sum', { deps: ['load', 'wait'] }, (d) => d.load + d.wait)
      .build();
    const f = flow('shaped-dag', async (ctx) => {
      await ctx.run('before', () => 0);
      return (await ctx.dag(g, undefined)).outputs.sum;
    });
    h.startWorker([f]);
    const handle = await h.client.schedule(f, undefined);
    // The shape's waiting record is not awaited before the nodes run (dag-op.ts): on a store that
    // commits two batches at once on two connections (PostgreSQL), `load` can land first.
    await until(async () => {
      const [run] = dagRunsOf((await handle.get()).history, { running: true });
      return run?.shapeRecorded === true && run.nodes.find((n) => n.name === 'load')?.status === 'completed';
    });
    const [running] = dagRunsOf((await handle.get()).history, { running: true });
    expect(running).toMatchObject({ name: 'shaped', key: 'dag:shaped#0', position: 1, finished: false });
    expect(running?.shapeRecorded).toBe(true);
    expect(running?.nodes.map((n) => [n.name, n.status, n.deps])).toEqual([
      ['load', 'completed', []],
      ['wait', 'pending', []],
      ['sum', 'pending', ['load', 'wait']],
    ]);
    open();
    expect(await handle.result()).toBe(3);
    const [finished] = dagRunsOf((await handle.get()).history);
    expect(finished).toMatchObject({ finished: true, shapeRecorded: true });
    expect(finished?.nodes.map((n) => n.status)).toEqual(['completed', 'completed', 'completed']);
  });
});
