/**
 * DAGs rebuilt from a flow's history, for `flows show`: read by
 * `@ergon/executor`'s `dagRunsOf` (which owns the record format), drawn here
 * for a terminal. A DAG records its shape when it starts, so a running one is
 * drawn with its edges; a history of an older executor may hold no shape
 * (nodes without edges).
 *
 * @module
 */
import { type DagRun, dagRunsOf, type HistoryEntry } from '@ergon/executor';
import { Graph, renderAscii } from '@ergon/graph';

/** A DAG run found in a history, as `dagRunsOf` reads it. */
export type DagView = DagRun;

/** Every DAG run in `history` (ordered by position); `running`: the flow is not finished. */
export function dagsOf(history: readonly HistoryEntry[], running = false): DagView[] {
  return dagRunsOf(history, { running });
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
