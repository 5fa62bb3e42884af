/**
 * DAGs rebuilt from a flow's history, for `flows show`. A `dag:<name>#n`
 * record is followed by one position per node (`<name>.<node>#n`) in the
 * graph's topological order. The record's result holds each node's status
 * and, from executors that record it, the graph's shape (`graph`: nodes with
 * their dependencies); without the shape the nodes are drawn without edges.
 *
 * @module
 */
import type { HistoryEntry } from '@ergon/executor';
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
  /** True when the dependencies come from the record; false when they are unknown (no edges). */
  readonly shapeRecorded: boolean;
  /** Nodes in the graph's topological order. */
  readonly nodes: readonly DagNodeView[];
}

const DAG_KEY = /^dag:(.+)#(\d+)$/;
const NODE_STATUSES = new Set<NodeStatus>(['pending', 'running', 'completed', 'failed', 'skipped']);

/** Every DAG run recorded in `history` (ordered by position). */
export function dagsOf(history: readonly HistoryEntry[]): DagView[] {
  const byPosition = new Map(history.map((h) => [h.position, h]));
  const views: DagView[] = [];
  for (const entry of history) {
    const match = entry.kind === 'dag' ? DAG_KEY.exec(entry.key) : null;
    if (!match) continue;
    const name = match[1] as string;
    const n = match[2] as string;
    const result = isRecord(entry.result) ? entry.result : {};
    const shape = recordedShape(result.graph, name);
    const statuses = isRecord(result.statuses) ? result.statuses : {};
    // Node positions follow the dag record, one per node in topological order (a skipped
    // node leaves its position empty). Without a count, take the run of matching keys.
    const expected = shape?.length ?? Object.keys(statuses).length;
    const records = new Map<string, HistoryEntry>();
    for (let p = entry.position + 1; expected === 0 || p <= entry.position + expected; p++) {
      const next = byPosition.get(p);
      const node = next ? nodeName(next.key, name, n) : undefined;
      if (next && node !== undefined) records.set(node, next);
      else if (expected === 0) break;
    }
    const names = shape?.map((s) => s.name) ?? unique([...Object.keys(statuses), ...records.keys()]);
    const nodes = names.map((nodeName): DagNodeView => {
      const record = records.get(nodeName);
      return {
        name: nodeName,
        deps: shape?.find((s) => s.name === nodeName)?.deps ?? [],
        status: statusOf(statuses[nodeName], record),
        position: record?.position,
      };
    });
    views.push({ name, position: entry.position, key: entry.key, shapeRecorded: shape !== undefined, nodes });
  }
  return views;
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

function recordedShape(value: unknown, name: string): { name: string; deps: string[] }[] | undefined {
  if (!isRecord(value) || !Array.isArray(value.nodes)) return undefined;
  if (value.name !== undefined && value.name !== name) return undefined;
  const nodes: { name: string; deps: string[] }[] = [];
  for (const node of value.nodes) {
    if (!isRecord(node) || typeof node.name !== 'string') return undefined;
    const deps = Array.isArray(node.deps) ? node.deps.filter((d): d is string => typeof d === 'string') : [];
    nodes.push({ name: node.name, deps });
  }
  // Topological order when recorded, so layers and positions line up with the run.
  const order = Array.isArray(value.order)
    ? value.order.filter((o): o is string => typeof o === 'string')
    : [];
  if (order.length === nodes.length && order.every((o) => nodes.some((n) => n.name === o))) {
    return order.map((o) => nodes.find((n) => n.name === o)!);
  }
  return nodes;
}

function nodeName(key: string, graph: string, n: string): string | undefined {
  const prefix = `${graph}.`;
  const suffix = `#${n}`;
  if (!key.startsWith(prefix) || !key.endsWith(suffix)) return undefined;
  const name = key.slice(prefix.length, key.length - suffix.length);
  return name === '' ? undefined : name;
}

function statusOf(recorded: unknown, record: HistoryEntry | undefined): NodeStatus {
  if (typeof recorded === 'string' && NODE_STATUSES.has(recorded as NodeStatus))
    return recorded as NodeStatus;
  if (!record) return 'pending';
  if (record.status === 'waiting') return 'running';
  return record.status;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
