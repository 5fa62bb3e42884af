/**
 * DAG runs found in a flow's history, laid out for a picture. A finished
 * `dag:<name>#n` record carries each node's status and the graph's shape;
 * its nodes follow it, one position each (`<name>.<node>#n`). A DAG still
 * running has no `dag:` record yet: its node records are found by their keys
 * after an empty position, and drawn without edges until the shape is known.
 *
 * @module
 */
import dagre from '@dagrejs/dagre';
import type { HistoryEntry } from '@ergon/executor';

/** A node's state in a picture. */
export type DagNodeStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';

/** One laid-out node. Coordinates are the box's top-left corner. */
export interface DagNodeView {
  readonly name: string;
  readonly status: DagNodeStatus;
  /** History position of its step, when it has a record. */
  readonly position?: number | undefined;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** One laid-out edge: a polyline from a dependency to its dependent. */
export interface DagEdgeView {
  readonly from: string;
  readonly to: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

/** A DAG run, ready to draw. */
export interface DagView {
  readonly name: string;
  /** Position of the `dag:` record (reserved while it runs). */
  readonly position: number;
  /** False while the DAG runs: the shape (edges) is recorded when it finishes. */
  readonly shapeRecorded: boolean;
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly DagNodeView[];
  readonly edges: readonly DagEdgeView[];
}

const DAG_KEY = /^dag:(.+)#(\d+)$/;
const NODE_KEY = /^(.+)\.([^.]+)#(\d+)$/;
const STATUSES = new Set<DagNodeStatus>(['pending', 'running', 'completed', 'failed', 'skipped']);
/** Most nodes drawn per DAG: past it the picture would be unreadable anyway. */
const MAX_NODES = 300;

/** Every DAG run in `history` (ordered by position), laid out; `running`: the flow is not finished. */
export function dagsOf(history: readonly HistoryEntry[], running: boolean): DagView[] {
  const byPosition = new Map(history.map((h) => [h.position, h]));
  const views: DagView[] = [];
  const claimed = new Set<number>();
  for (const entry of history) {
    const match = entry.kind === 'dag' ? DAG_KEY.exec(entry.key) : null;
    if (!match) continue;
    const [, name = '', n = '0'] = match;
    const result = isRecord(entry.result) ? entry.result : {};
    const shape = recordedShape(result.graph, name);
    const statuses = isRecord(result.statuses) ? result.statuses : {};
    const count = shape?.length ?? Object.keys(statuses).length;
    const records = new Map<string, HistoryEntry>();
    for (let p = entry.position + 1; p <= entry.position + count; p++) {
      const next = byPosition.get(p);
      const node = next ? nodeOf(next.key, name, n) : undefined;
      if (next && node !== undefined) {
        records.set(node, next);
        claimed.add(p);
      }
    }
    const names = shape?.map((s) => s.name) ?? Object.keys(statuses);
    const nodes = names.map((node) => ({
      name: node,
      deps: shape?.find((s) => s.name === node)?.deps ?? [],
      status: statusOf(statuses[node], records.get(node)),
      position: records.get(node)?.position,
    }));
    views.push(layout(name, entry.position, shape !== undefined, nodes));
  }
  if (running) views.push(...runningDags(history, byPosition, claimed));
  return views.sort((a, b) => a.position - b.position);
}

/** DAGs without a `dag:` record yet: a run of `<graph>.<node>#n` step records after an empty position. */
function runningDags(
  history: readonly HistoryEntry[],
  byPosition: ReadonlyMap<number, HistoryEntry>,
  claimed: ReadonlySet<number>,
): DagView[] {
  const groups = new Map<string, { position: number; nodes: Map<string, HistoryEntry> }>();
  for (const entry of history) {
    if (entry.kind !== 'step' || claimed.has(entry.position)) continue;
    const match = NODE_KEY.exec(entry.key);
    if (!match) continue;
    const [, graph = '', node = '', n = '0'] = match;
    const id = `${graph}#${n}`;
    let group = groups.get(id);
    if (!group) {
      // The reserved dag position precedes the first node and holds no record while it runs.
      let start = entry.position - 1;
      while (start >= 0 && byPosition.get(start)?.key.startsWith(`${graph}.`)) start--;
      if (start < 0 || byPosition.has(start)) continue;
      group = { position: start, nodes: new Map() };
      groups.set(id, group);
    }
    group.nodes.set(node, entry);
  }
  return [...groups].map(([id, group]) =>
    layout(
      id.replace(/#\d+$/, ''),
      group.position,
      false,
      [...group.nodes].map(([name, record]) => ({
        name,
        deps: [],
        status: statusOf(undefined, record),
        position: record.position,
      })),
    ),
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

function recordedShape(value: unknown, name: string): { name: string; deps: string[] }[] | undefined {
  if (!isRecord(value) || !Array.isArray(value.nodes)) return undefined;
  if (value.name !== undefined && value.name !== name) return undefined;
  const nodes: { name: string; deps: string[] }[] = [];
  for (const node of value.nodes) {
    if (!isRecord(node) || typeof node.name !== 'string') return undefined;
    const deps = Array.isArray(node.deps) ? node.deps.filter((d): d is string => typeof d === 'string') : [];
    nodes.push({ name: node.name, deps });
  }
  const order = Array.isArray(value.order)
    ? value.order.filter((o): o is string => typeof o === 'string')
    : [];
  if (order.length === nodes.length && order.every((o) => nodes.some((n) => n.name === o)))
    return order.map((o) => nodes.find((n) => n.name === o)!);
  return nodes;
}

function nodeOf(key: string, graph: string, n: string): string | undefined {
  const prefix = `${graph}.`;
  const suffix = `#${n}`;
  if (!key.startsWith(prefix) || !key.endsWith(suffix)) return undefined;
  const name = key.slice(prefix.length, key.length - suffix.length);
  return name === '' ? undefined : name;
}

function statusOf(recorded: unknown, record: HistoryEntry | undefined): DagNodeStatus {
  if (typeof recorded === 'string' && STATUSES.has(recorded as DagNodeStatus))
    return recorded as DagNodeStatus;
  if (!record) return 'pending';
  return record.status === 'waiting' ? 'running' : record.status;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
