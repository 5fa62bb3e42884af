import { ErgonError, ErrorCode, toError } from '@ergon/core';
import type { Graph } from '../graph.js';
import type { GraphNode, NodeContext, NodeStatus } from '../types.js';
import { formatName } from './invalid.js';
import { MinHeap } from './min-heap.js';

/** Checked settings of one execution. */
export interface RunSettings<I> {
  readonly maxParallel: number;
  readonly failFast: boolean;
  readonly signal: AbortSignal | undefined;
  readonly runNode: (
    node: GraphNode<I>,
    deps: Readonly<Record<string, unknown>>,
    input: I,
    ctx: NodeContext,
  ) => unknown;
}

/** What an execution that was not stopped ends with. */
export interface RunOutcome {
  readonly outputs: Record<string, unknown>;
  readonly failed: Record<string, Error>;
  readonly skipped: string[];
  readonly statuses: Record<string, NodeStatus>;
}

type Stop = { readonly kind: 'failed' } | { readonly kind: 'aborted'; readonly reason: unknown };

/**
 * Runs `graph` once. Each node starts as soon as its last dependency finishes
 * (no waves), never more than `maxParallel` at a time; among ready nodes the
 * one first in `graph.order` starts first. Every node promise is observed, so
 * no rejection escapes; a stop (failure under fail-fast, or the caller's
 * signal) starts nothing new, aborts the nodes' signal and waits for running
 * nodes to settle before rejecting.
 */
export function runGraph<I>(graph: Graph<I>, input: I, settings: RunSettings<I>): Promise<RunOutcome> {
  return new Promise<RunOutcome>((resolve, reject) => {
    const names = graph.order;
    const indexOf = new Map(names.map((name, i) => [name, i]));
    const nodes = names.map((name) => graph.node(name)!);
    const waiting = nodes.map((n) => n.deps.length);
    const status: NodeStatus[] = nodes.map(() => 'pending');
    const outputs = new Map<string, unknown>();
    const errors = new Map<string, Error>();
    const ready = new MinHeap();
    const controller = new AbortController();
    const outer = settings.signal;
    let running = 0;
    let stop: Stop | undefined;
    let done = false;

    const onAbort = () => {
      if (stop === undefined) {
        stop = { kind: 'aborted', reason: outer?.reason };
        controller.abort(outer?.reason);
      }
      if (running === 0) finish();
    };

    const start = (i: number) => {
      const node = nodes[i]!;
      status[i] = 'running';
      running += 1;
      const deps = Object.freeze(Object.fromEntries(node.deps.map((d) => [d, outputs.get(d)])));
      const ctx: NodeContext = Object.freeze({
        signal: controller.signal,
        node: node.name,
        graph: graph.name,
      });
      let pending: Promise<unknown>;
      try {
        pending = Promise.resolve(settings.runNode(node, deps, input, ctx));
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending
        .then(
          (value) => settle(i, { ok: true, value }),
          (error: unknown) => settle(i, { ok: false, error }),
        )
        .catch(crash);
    };

    const settle = (i: number, outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => {
      running -= 1;
      const name = names[i]!;
      if (outcome.ok) {
        status[i] = 'completed';
        outputs.set(name, outcome.value);
        for (const dependent of graph.dependentsOf(name)) {
          const d = indexOf.get(dependent)!;
          waiting[d]! -= 1;
          if (waiting[d] === 0 && status[d] === 'pending') ready.push(d);
        }
      } else {
        const error = toError(outcome.error);
        status[i] = 'failed';
        errors.set(name, error);
        if (settings.failFast && stop === undefined) {
          stop = { kind: 'failed' };
          controller.abort(
            new ErgonError(
              ErrorCode.ABORTED,
              `graph ${formatName(graph.name)} is stopping: node ${formatName(name)} failed`,
              {
                cause: error,
                details: { graph: graph.name, node: name },
              },
            ),
          );
        } else if (!settings.failFast) {
          skipDownstream(i);
        }
      }
      pump();
    };

    const skipDownstream = (i: number) => {
      const queue = [i];
      for (let j = queue.pop(); j !== undefined; j = queue.pop()) {
        for (const dependent of graph.dependentsOf(names[j]!)) {
          const d = indexOf.get(dependent)!;
          if (status[d] === 'pending') {
            status[d] = 'skipped';
            queue.push(d);
          }
        }
      }
    };

    const pump = () => {
      while (stop === undefined && running < settings.maxParallel && ready.size > 0) start(ready.pop()!);
      if (running === 0 && (stop !== undefined || ready.size === 0)) finish();
    };

    const finish = () => {
      if (done) return;
      done = true;
      outer?.removeEventListener('abort', onAbort);
      for (const [i, s] of status.entries()) if (s === 'pending') status[i] = 'skipped';
      const statuses = Object.fromEntries(names.map((name, i) => [name, status[i]!]));
      if (stop !== undefined) {
        reject(stopped(graph.name, stop, [...errors], statuses));
        return;
      }
      resolve({
        outputs: Object.fromEntries(outputs),
        failed: Object.fromEntries(errors),
        skipped: names.filter((_, i) => status[i] === 'skipped'),
        statuses,
      });
    };

    // Only reachable through a bug here; reject rather than leak a rejection.
    function crash(error: unknown) {
      if (done) return;
      done = true;
      outer?.removeEventListener('abort', onAbort);
      controller.abort(error);
      reject(new ErgonError(ErrorCode.INTERNAL, 'graph scheduler failed', { cause: error }));
    }

    for (const [i, count] of waiting.entries()) if (count === 0) ready.push(i);
    if (outer?.aborted) {
      onAbort();
      return;
    }
    outer?.addEventListener('abort', onAbort, { once: true });
    pump();
  });
}

function stopped(
  graph: string,
  stop: Stop,
  errors: [string, Error][],
  statuses: Record<string, NodeStatus>,
): ErgonError {
  const failed = errors.map(([name]) => name);
  const details = { graph, failed, statuses };
  if (stop.kind === 'aborted') {
    return new ErgonError(ErrorCode.ABORTED, `graph ${formatName(graph)} was aborted`, {
      cause: stop.reason,
      details,
    });
  }
  const [name, first] = errors[0]!;
  const others = failed.length > 1 ? ` (then also: ${failed.slice(1).map(formatName).join(', ')})` : '';
  return new ErgonError(
    ErrorCode.DAG_FAILED,
    `graph ${formatName(graph)} failed: node ${formatName(name)} failed: ${first.message}${others}`,
    { cause: first, details },
  );
}
