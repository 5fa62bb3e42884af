/**
 * DAGs rebuilt from a flow's history, for `flows show`: read by
 * `@ergon/executor`'s `dagRunsOf` (which owns the record format), drawn here
 * for a terminal. A DAG records its shape when it starts, so a running one is
 * drawn with its edges; a history of an older executor may hold no shape
 * (nodes without edges).
 *
 * @module
 */
import { dagRunsOf, type HistoryEntry } from '@ergon/executor';
import { Graph, type NodeStatus, renderAscii } from '@ergon/graph';

/** One node of a {@link DagView}. */
export interface DagNodeView {
  readonly name: string;
  /** Its dependencies; empty when the shape was not recorded. */
  readonly deps: readonly string[];
  readonly status: NodeStatus;
  /** Its history position, when it has a record. */
  readonly position?: number | undefined;
}

/** A DAG run found in a history. */
export interface DagView {
  /** The graph's name. */
  readonly name: string;
  /** Position of the `dag:` record. */
  readonly position: number;
  /** The `dag:` record's key. */
  readonly key: string;
  /** True once the DAG ended (its `dag:` record is final). */
  readonly finished: boolean;
  /** True when the dependencies come from the record; false when they are unknown (no edges). */
  readonly shapeRecorded: boolean;
  /** Nodes in the graph's topological order. */
  readonly nodes: readonly DagNodeView[];
}

/** Every DAG run in `history` (ordered by position); `running`: the flow is not finished. */
export function dagsOf(history: readonly HistoryEntry[], running = false): DagView[] {
  return dagRunsOf(history, { running }).map((run) => ({
    name: run.name,
    position: run.position,
    key: run.key,
    finished: run.finished,
    shapeRecorded: run.shapeRecorded,
    nodes: run.nodes,
  }));
}

/** The DAG drawn for a terminal, with node statuses (`unicode` or plain `ascii` lines). */
export function renderDag(view: DagView, charset: 'unicode' | 'ascii' = 'unicode'): string {
  const status = Object.fromEntries(view.nodes.map((n) => [n.name, n.status]));
  let graph: Graph;
  try {
    graph = Graph.fromNodes(
      view.nodes.map((n) => ({ name: n.name, deps: n.deps, run: () => undefined })),
      { name: view.name },
    );
  } catch {
    // Recorded dependencies that do not form a valid graph: still show the nodes.
    graph = Graph.fromNodes(
      view.nodes.map((n) => ({ name: n.name, run: () => undefined })),
      { name: view.name },
    );
  }
  return renderAscii(graph, { status, charset });
}
