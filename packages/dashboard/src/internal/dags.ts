/**
 * DAG runs found in a flow's history (read by `@ergon/executor`'s
 * `dagRunsOf`, which owns the record format), laid out for a picture with
 * dagre. A running DAG is drawn with its edges from the shape recorded when it
 * started; a history of an older executor gives none while it runs (nodes
 * without edges, until it finishes).
 *
 * @module
 */
import dagre from '@dagrejs/dagre';
import { dagRunsOf, type HistoryEntry } from '@ergon/executor';

/** A node's state in a picture. */
export type DagNodeStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';

/** One laid-out node. Coordinates are the box's top-left corner. */
export interface DagNodeView {
  /** The node name. */
  readonly name: string;
  /** Its state, from the history. */
  readonly status: DagNodeStatus;
  /** History position of its step, when it has a record. */
  readonly position?: number | undefined;
  /** Left edge of its box. */
  readonly x: number;
  /** Top edge of its box. */
  readonly y: number;
  /** Width of its box. */
  readonly width: number;
  /** Height of its box. */
  readonly height: number;
}

/** One laid-out edge: a polyline from a dependency to its dependent. */
export interface DagEdgeView {
  /** The dependency. */
  readonly from: string;
  /** The node that depends on it. */
  readonly to: string;
  /** The polyline, from `from` to `to`. */
  readonly points: readonly {
    /** Horizontal coordinate. */
    readonly x: number;
    /** Vertical coordinate. */
    readonly y: number;
  }[];
}

/** A DAG run, ready to draw. */
export interface DagView {
  /** The graph name. */
  readonly name: string;
  /** Position of the `dag:` record (reserved while it runs). */
  readonly position: number;
  /** False when the history holds no shape (an older executor's running DAG): nodes without edges. */
  readonly shapeRecorded: boolean;
  /** Width of the whole picture. */
  readonly width: number;
  /** Height of the whole picture. */
  readonly height: number;
  /** Its nodes, laid out. */
  readonly nodes: readonly DagNodeView[];
  /** Its edges, laid out. */
  readonly edges: readonly DagEdgeView[];
}

/** Most nodes drawn per DAG: past it the picture would be unreadable anyway. */
const MAX_NODES = 300;

/** Every DAG run in `history` (ordered by position), laid out; `running`: the flow is not finished. */
export function dagsOf(history: readonly HistoryEntry[], running: boolean): DagView[] {
  return dagRunsOf(history, { running }).map((run) =>
    layout(run.name, run.position, run.shapeRecorded, run.nodes),
  );
}

interface NodeInput {
  readonly name: string;
  readonly deps: readonly string[];
  readonly status: DagNodeStatus;
  readonly position?: number | undefined;
}

const NODE_HEIGHT = 34;
const CHAR_WIDTH = 7.2;

function layout(
  name: string,
  position: number,
  shapeRecorded: boolean,
  input: readonly NodeInput[],
): DagView {
  const nodes = input.slice(0, MAX_NODES);
  const names = new Set(nodes.map((n) => n.name));
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 16, ranksep: 48, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) {
    const width = Math.min(240, Math.max(90, Math.round(node.name.length * CHAR_WIDTH) + 34));
    g.setNode(node.name, { width, height: NODE_HEIGHT });
  }
  for (const node of nodes)
    for (const dep of node.deps) if (names.has(dep) && dep !== node.name) g.setEdge(dep, node.name);
  dagre.layout(g);
  const laid = nodes.map((node): DagNodeView => {
    const box = g.node(node.name);
    return {
      name: node.name,
      status: node.status,
      position: node.position,
      x: round(box.x - box.width / 2),
      y: round(box.y - box.height / 2),
      width: box.width,
      height: box.height,
    };
  });
  const edges = g.edges().map((e: { v: string; w: string }): DagEdgeView => {
    const points = (g.edge(e).points ?? []) as { x: number; y: number }[];
    return { from: e.v, to: e.w, points: points.map((p) => ({ x: round(p.x), y: round(p.y) })) };
  });
  const graph = g.graph();
  return {
    name,
    position,
    shapeRecorded,
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    nodes: laid,
    edges,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
