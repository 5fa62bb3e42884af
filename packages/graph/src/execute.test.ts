import { ErgonError, ErrorCode, hasErrorCode } from '@ergon/core';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { executeGraph, type GraphResult } from './execute.js';
import { Graph } from './graph.js';
import type { GraphNodeDefinition, NodeContext } from './types.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Sleeps `ms`, or rejects with the signal's reason as soon as it aborts. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

/** A small deterministic PRNG (mulberry32), so "random" graphs are the same every run. */
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

async function rejection(promise: Promise<unknown>): Promise<ErgonError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ErgonError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  await sleep(5);
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('executeGraph scheduling', () => {
  it('starts a node as soon as its own dependencies finish, not in waves', async () => {
    const t0 = performance.now();
    const times: Record<string, { start: number; end: number }> = {};
    const timed = (name: string, ms: number) => async (): Promise<string> => {
      times[name] = { start: performance.now() - t0, end: Number.NaN };
      await sleep(ms);
      times[name].end = performance.now() - t0;
      return name;
    };
    const g = Graph.fromNodes([
      { name: 'A', run: timed('A', 5) },
      { name: 'B', run: timed('B', 300) },
      { name: 'C', deps: ['A'], run: timed('C', 5) },
      { name: 'D', deps: ['B'], run: timed('D', 5) },
    ]);
    const result = await executeGraph(g, undefined);
    expect(result.outputs).toEqual({ A: 'A', B: 'B', C: 'C', D: 'D' });
    expect(times.C!.start).toBeGreaterThanOrEqual(times.A!.end);
    expect(times.C!.start).toBeLessThan(times.B!.end);
    expect(times.C!.end).toBeLessThan(times.B!.end);
    expect(times.D!.start).toBeGreaterThanOrEqual(times.B!.end);
  });

  it('never runs more than maxParallel nodes at once, and reaches it (200-node graph)', async () => {
    const random = prng(42);
    const k = 4;
    let running = 0;
    let peak = 0;
    const nodes: GraphNodeDefinition[] = [];
    for (let i = 0; i < 200; i++) {
      const deps = new Set<string>();
      const count = i === 0 ? 0 : Math.floor(random() * 3);
      for (let j = 0; j < count; j++) deps.add(`n${Math.floor(random() * i)}`);
      const delay = Math.floor(random() * 3);
      nodes.push({
        name: `n${i}`,
        deps: [...deps],
        run: async () => {
          running += 1;
          peak = Math.max(peak, running);
          await (delay === 0 ? Promise.resolve() : sleep(delay));
          running -= 1;
        },
      });
    }
    const result = await executeGraph(Graph.fromNodes(nodes), undefined, { maxParallel: k });
    expect(Object.keys(result.outputs)).toHaveLength(200);
    expect(peak).toBeLessThanOrEqual(k);
    expect(peak).toBe(k);
  });

  it('fills every slot of a wide graph', async () => {
    let running = 0;
    let peak = 0;
    const nodes = Array.from({ length: 30 }, (_, i) => ({
      name: `w${i}`,
      run: async () => {
        running += 1;
        peak = Math.max(peak, running);
        await sleep(3);
        running -= 1;
      },
    }));
    await executeGraph(Graph.fromNodes(nodes), undefined, { maxParallel: 5 });
    expect(peak).toBe(5);
    running = 0;
    peak = 0;
    await executeGraph(Graph.fromNodes(nodes), undefined);
    expect(peak).toBe(30);
  });

  it('among ready nodes starts the one first in graph.order', async () => {
    const started: string[] = [];
    const nodes = ['z', 'y', 'x', 'w'].map((name) => ({ name, run: () => void started.push(name) }));
    await executeGraph(Graph.fromNodes(nodes), undefined, { maxParallel: 1 });
    expect(started).toEqual(['z', 'y', 'x', 'w']);
  });

  it('routes every node through runNode, whose result is the node output', async () => {
    const calls: string[] = [];
    const g = Graph.fromNodes<number>([
      { name: 'a', run: (_d, n) => n * 2 },
      { name: 'b', deps: ['a'], run: (d) => d },
    ]);
    const result = await executeGraph(g, 21, {
      runNode: async (node, deps, input, ctx) => {
        calls.push(`${ctx.node}:${JSON.stringify(deps)}:${input}`);
        return { wrapped: await node.run(deps, input, ctx) };
      },
    });
    expect(calls).toEqual(['a:{}:21', 'b:{"a":{"wrapped":42}}:21']);
    expect(result.outputs.b).toEqual({ wrapped: { a: { wrapped: 42 } } });
  });

  it('refuses bad options', async () => {
    const g = Graph.fromNodes([{ name: 'a', run: () => 1 }]);
    for (const maxParallel of [0, -1, 1.5, Number.NaN]) {
      const error = await rejection(executeGraph(g, undefined, { maxParallel }));
      expect(error.code).toBe(ErrorCode.INVALID_ARGUMENT);
    }
    const policy = 'sometimes' as 'fail-fast';
    expect((await rejection(executeGraph(g, undefined, { failurePolicy: policy }))).code).toBe(
      ErrorCode.INVALID_ARGUMENT,
    );
  });
});

describe('executeGraph failures', () => {
  it('fail-fast: aborts running siblings, starts nothing new, then throws DAG_FAILED', async () => {
    const started: string[] = [];
    const aborted: string[] = [];
    const boom = new Error('fraud service down');
    const slow = (name: string) => async (_d: unknown, _i: unknown, ctx: NodeContext) => {
      started.push(name);
      ctx.signal.addEventListener('abort', () => aborted.push(name));
      await abortableSleep(2000, ctx.signal);
    };
    const g = Graph.fromNodes([
      { name: 'slow1', run: slow('slow1') },
      {
        name: 'boom',
        run: async () => {
          started.push('boom');
          await sleep(10);
          throw boom;
        },
      },
      { name: 'slow2', run: slow('slow2') },
      { name: 'queued', run: slow('queued') },
      { name: 'after', deps: ['boom'], run: slow('after') },
    ]);
    const t0 = performance.now();
    const error = await rejection(executeGraph(g, undefined, { maxParallel: 3 }));
    // The running nodes were aborted, not waited out (each sleeps 2 s unless aborted).
    expect(performance.now() - t0).toBeLessThan(1900);
    expect(error.code).toBe(ErrorCode.DAG_FAILED);
    expect(error.cause).toBe(boom);
    expect(error.message).toContain('boom');
    expect(error.details.failed).toEqual(['boom', 'slow1', 'slow2']);
    expect(error.details.statuses).toEqual({
      slow1: 'failed',
      boom: 'failed',
      slow2: 'failed',
      queued: 'skipped',
      after: 'skipped',
    });
    expect(started.sort()).toEqual(['boom', 'slow1', 'slow2']);
    expect(aborted.sort()).toEqual(['slow1', 'slow2']);
  });

  it('fail-fast waits for running nodes that ignore the signal', async () => {
    let stubbornDone = false;
    const g = Graph.fromNodes([
      { name: 'bad', run: () => Promise.reject(new Error('no')) },
      {
        name: 'stubborn',
        run: async () => {
          await sleep(40);
          stubbornDone = true;
          return 'late';
        },
      },
    ]);
    const error = await rejection(executeGraph(g, undefined));
    expect(stubbornDone).toBe(true);
    expect(error.details.failed).toEqual(['bad']);
    expect(error.details.statuses).toEqual({ bad: 'failed', stubborn: 'completed' });
  });

  it('run-what-can: finishes independent branches and reports failed and skipped nodes', async () => {
    const error = new Error('b broke');
    const g = Graph.fromNodes([
      { name: 'a', run: () => 'a' },
      { name: 'b', deps: ['a'], run: () => sleep(5).then(() => Promise.reject(error)) },
      { name: 'c', deps: ['b'], run: () => 'c' },
      { name: 'd', deps: ['c'], run: () => 'd' },
      { name: 'e', deps: ['a'], run: () => sleep(20).then(() => 'e') },
      { name: 'f', deps: ['e'], run: () => 'f' },
      { name: 'g', run: () => 'g' },
      { name: 'h', deps: ['f', 'c'], run: () => 'h' },
    ]);
    const result = await executeGraph(g, undefined, { failurePolicy: 'run-what-can' });
    expectTypeOf(result).toEqualTypeOf<GraphResult<Record<string, unknown>>>();
    expect(result.status).toBe('failed');
    expect(result.outputs).toEqual({ a: 'a', g: 'g', e: 'e', f: 'f' });
    expect(result.failed).toEqual({ b: error });
    expect(result.skipped).toEqual(['c', 'd', 'h']);
    expect(result.statuses).toMatchObject({
      a: 'completed',
      b: 'failed',
      c: 'skipped',
      h: 'skipped',
      f: 'completed',
    });
  });

  it('run-what-can with no failure completes', async () => {
    const g = Graph.fromNodes([{ name: 'a', run: () => 1 }]);
    const result = await executeGraph(g, undefined, { failurePolicy: 'run-what-can' });
    expect(result).toMatchObject({ status: 'completed', outputs: { a: 1 }, failed: {}, skipped: [] });
  });

  it('the outer signal stops everything and rejects with ABORTED', async () => {
    const controller = new AbortController();
    const started: string[] = [];
    const g = Graph.fromNodes([
      {
        name: 'long',
        run: (_d, _i, ctx) => {
          started.push('long');
          return abortableSleep(2000, ctx.signal);
        },
      },
      { name: 'next', deps: ['long'], run: () => void started.push('next') },
    ]);
    setTimeout(() => controller.abort(new Error('shutdown')), 10);
    for (const failurePolicy of ['fail-fast', 'run-what-can'] as const) {
      const error = await rejection(executeGraph(g, undefined, { signal: controller.signal, failurePolicy }));
      expect(error.code).toBe(ErrorCode.ABORTED);
      expect((error.cause as Error).message).toBe('shutdown');
    }
    expect(started).toEqual(['long']);
  });

  it('an already aborted signal runs nothing', async () => {
    let ran = false;
    const g = Graph.fromNodes([
      {
        name: 'a',
        run: () => {
          ran = true;
        },
      },
    ]);
    const error = await rejection(executeGraph(g, undefined, { signal: AbortSignal.abort() }));
    expect(error.code).toBe(ErrorCode.ABORTED);
    expect(error.details.statuses).toEqual({ a: 'skipped' });
    expect(ran).toBe(false);
  });

  it('turns synchronous throws and non-errors into node failures, never unhandled rejections', async () => {
    const g = Graph.fromNodes([
      {
        name: 'sync',
        run: () => {
          throw new Error('sync throw');
        },
      },
      { name: 'odd', run: () => Promise.reject('a string') },
      { name: 'fine', run: () => 1 },
    ]);
    const result = await executeGraph(g, undefined, { failurePolicy: 'run-what-can' });
    expect(result.failed.sync?.message).toBe('sync throw');
    expect(hasErrorCode(result.failed.odd, ErrorCode.INTERNAL)).toBe(true);
    const viaRunNode = await rejection(
      executeGraph(g, undefined, {
        runNode: () => {
          throw new Error('runNode threw');
        },
      }),
    );
    expect(viaRunNode.code).toBe(ErrorCode.DAG_FAILED);
  });
});
