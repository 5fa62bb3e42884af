/**
 * `ctx.dag`: runs a graph's nodes as durable steps, each the moment its
 * dependencies are done, and records the whole result (with the graph's shape,
 * so tools can draw it from history alone).
 *
 * The shape is known before the result: when the DAG starts, a `waiting`
 * record at its position carries it (`{ graph }`), so a running DAG is drawn
 * with its edges. The final record replaces it (a waiting record never wins
 * over a final one, whatever order the writes land in), and replay treats a
 * waiting DAG record as a DAG still running: it runs on, its finished nodes
 * replaying. Histories written before this record existed replay as before.
 *
 * @module
 */
import { describeGraph, executeGraph, type GraphNode } from '@ergon/graph';
import type { AnyGraph, DagOptions, DagResultOf, GraphInputOf } from '../dag.js';
import { type NormalizedStepOptions, normalizeStepOptions, type StepScope } from '../definitions.js';
import type { Slot } from './history-cursor.js';
import type { StepHost } from './step-attempts.js';

/** What a DAG needs from its activation. */
export interface DagHost extends StepHost {
  runStep<R>(
    slot: Slot,
    kind: 'step' | 'run',
    fn: (scope: StepScope) => Promise<R> | R,
    options: NormalizedStepOptions,
  ): Promise<R>;
}

/** Runs the graph whose record is at `slots.slot` and whose nodes hold `slots.nodeSlots`. */
export async function runDag<G extends AnyGraph>(
  host: DagHost,
  slots: { readonly slot: Slot; readonly nodeSlots: ReadonlyMap<string, Slot> },
  graph: G,
  input: GraphInputOf<G>,
  options: DagOptions,
): Promise<DagResultOf<G>> {
  const { slot, nodeSlots } = slots;
  const { recorder, liveness } = host;
  // Not counted as live work itself: its nodes are, and a node waiting on a
  // timer must let the flow suspend.
  const startedAt = slot.record?.startedAt ?? host.options.clock.now();
  const shape = describeGraph(graph);
  if (!slot.record) {
    // Not awaited: the nodes need not wait for it. Tracked, so the flow does not suspend before it lands.
    const started = recorder.waiting(slot, 'dag', undefined, { startedAt });
    void liveness.track(
      recorder.write({ ...started, result: recorder.encode({ graph: shape }, `shape of ${slot.key}`) }),
    );
  }
  const result = await executeGraph(graph, input, {
    maxParallel: options.maxParallel,
    failurePolicy: options.failurePolicy,
    signal: host.abort.signal,
    runNode: (node: GraphNode<unknown>, deps, nodeInput) =>
      host.runStep(
        nodeSlots.get(node.name) as Slot,
        'step',
        (scope) => node.run(deps, nodeInput, { signal: scope.signal, node: node.name, graph: graph.name }),
        normalizeStepOptions({ retry: node.retry, timeout: node.timeout }),
      ),
  });
  const recorded = recorder.encode({ ...result, graph: shape }, `result of ${slot.key}`);
  const record = recorder.final(slot, 'dag', { result: recorded, startedAt });
  return host.settle(await liveness.track(recorder.write(record)));
}
