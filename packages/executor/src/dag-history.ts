/**
 * DAG runs read back from a flow's history, for tools that draw them (the
 * dashboard, the CLI). This package writes the records, so it owns their
 * format: a `dag:<name>#n` record at the DAG's position, followed by one
 * position per node in the graph's topological order, each a step keyed
 * `<name>.<node>#n` (a node that never ran leaves its position empty).
 *
 * The `dag:` record is `waiting` while the DAG runs (its result holds the
 * graph's shape: `{ graph }`) and final once it ends (`statuses` of every node
 * and the shape). Histories of older executors have no record while the DAG
 * runs, and may have no shape in the final one: their nodes come without
 * dependencies, and a running DAG is found from its nodes' keys alone.
 *
 * @module
 */
import type { NodeStatus } from '@ergon/graph';
import type { HistoryEntry } from './flow-info.js';

/** What {@link dagRunsOf} reads of a history entry (a `client.get` entry has it all). */
export type DagHistoryEntry = Pick<HistoryEntry, 'position' | 'key' | 'kind' | 'status' | 'result'>;

/** One node of a {@link DagRun}. */
export interface DagRunNode {
  /** The node name. */
  readonly name: string;
  /** The nodes it depends on; empty when the history holds no shape. */
  readonly deps: readonly string[];
  /** Its status: as the DAG recorded it at its end, else from its step's record (`pending` without one). */
  readonly status: NodeStatus;
  /** History position of its step, when it has a record. */
  readonly position?: number | undefined;
}

/** A DAG run found in a history. */
export interface DagRun {
  /** The graph's name. */
  readonly name: string;
  /** The key of its `dag:` record (`dag:<name>#n`), recorded or not yet. */
  readonly key: string;
  /** Position of its `dag:` record (reserved while it runs). */
  readonly position: number;
  /** True once the DAG ended: its `dag:` record is final. */
  readonly finished: boolean;
  /** True when the dependencies come from the history; false when unknown (nodes without edges). */
  readonly shapeRecorded: boolean;
  /** Its nodes, in the graph's topological order when the shape is known. */
  readonly nodes: readonly DagRunNode[];
}

/** Options of {@link dagRunsOf}. */
export interface DagRunsOptions {
  /**
   * The flow has not finished: also find DAG runs that have no `dag:` record yet, from their
   * nodes' keys after an empty position (histories of executors that did not record the shape
   * when a DAG started).
   */
  readonly running?: boolean;
}

const DAG_KEY = /^dag:(.+)#(\d+)$/;
const NODE_KEY = /^(.+)\.([^.]+)#(\d+)$/;
const STATUSES = new Set<string>(['pending', 'running', 'completed', 'failed', 'skipped']);

/** Every DAG run in `history`, ordered by position. */
export function dagRunsOf(history: readonly DagHistoryEntry[], options: DagRunsOptions = {}): DagRun[] {
  const byPosition = new Map(history.map((h) => [h.position, h]));
  const runs: DagRun[] = [];
  const claimed = new Set<number>();
  for (const entry of history) {
    const match = entry.kind === 'dag' ? DAG_KEY.exec(entry.key) : null;
    if (!match) continue;
    const [, name = '', n = '0'] = match;
    const result = isRecord(entry.result) ? entry.result : {};
    const shape = recordedShape(result.graph, name);
    const statuses = isRecord(result.statuses) ? result.statuses : {};
    // One position per node follows the record; without a count, the run of matching keys.
    const expected = shape?.length ?? Object.keys(statuses).length;
    const records = new Map<string, DagHistoryEntry>();
    for (let p = entry.position + 1; expected === 0 || p <= entry.position + expected; p++) {
      const next = byPosition.get(p);
      const node = next ? nodeOf(next.key, name, n) : undefined;
      if (next && node !== undefined) {
        records.set(node, next);
        claimed.add(p);
      } else if (expected === 0) break;
    }
    const names = shape?.map((s) => s.name) ?? unique([...Object.keys(statuses), ...records.keys()]);
    runs.push({
      name,
      key: entry.key,
      position: entry.position,
      finished: entry.status !== 'waiting',
      shapeRecorded: shape !== undefined,
      nodes: names.map((node) => ({
        name: node,
        deps: shape?.find((s) => s.name === node)?.deps ?? [],
        status: statusOf(statuses[node], records.get(node)),
        position: records.get(node)?.position,
      })),
    });
  }
  if (options.running) runs.push(...unrecordedRuns(history, byPosition, claimed));
  return runs.sort((a, b) => a.position - b.position);
}

/** DAG runs without a `dag:` record: runs of `<graph>.<node>#n` step records after an empty position. */
function unrecordedRuns(
  history: readonly DagHistoryEntry[],
  byPosition: ReadonlyMap<number, DagHistoryEntry>,
  claimed: ReadonlySet<number>,
): DagRun[] {
  const groups = new Map<string, { name: string; n: string; position: number; nodes: DagRunNode[] }>();
  for (const entry of history) {
    if (entry.kind !== 'step' || claimed.has(entry.position)) continue;
    const match = NODE_KEY.exec(entry.key);
    if (!match) continue;
    const [, graph = '', node = '', n = '0'] = match;
    const id = `${graph}#${n}`;
    let group = groups.get(id);
    if (!group) {
      // The DAG's own position precedes its first node and holds no record while it runs.
      let start = entry.position - 1;
      while (start >= 0 && byPosition.get(start)?.key.startsWith(`${graph}.`)) start--;
      if (start < 0 || byPosition.has(start)) continue;
      group = { name: graph, n, position: start, nodes: [] };
      groups.set(id, group);
    }
    group.nodes.push({ name: node, deps: [], status: statusOf(undefined, entry), position: entry.position });
  }
  return [...groups.values()].map((group) => ({
    name: group.name,
    key: `dag:${group.name}#${group.n}`,
    position: group.position,
    finished: false,
    shapeRecorded: false,
    nodes: group.nodes,
  }));
}

/** The recorded shape, in topological order when that is recorded too; undefined when absent or foreign. */
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
  if (order.length !== nodes.length) return nodes;
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const ordered = order.map((o) => byName.get(o));
  return ordered.every((node) => node !== undefined)
    ? (ordered as { name: string; deps: string[] }[])
    : nodes;
}

/** The node a key names in the DAG run `<graph>#<n>`, or undefined. */
function nodeOf(key: string, graph: string, n: string): string | undefined {
  const prefix = `${graph}.`;
  const suffix = `#${n}`;
  if (!key.startsWith(prefix) || !key.endsWith(suffix)) return undefined;
  const name = key.slice(prefix.length, key.length - suffix.length);
  return name === '' ? undefined : name;
}

/** The status the final record gave the node, else what its own record says. */
function statusOf(recorded: unknown, record: DagHistoryEntry | undefined): NodeStatus {
  if (typeof recorded === 'string' && STATUSES.has(recorded)) return recorded as NodeStatus;
  if (!record) return 'pending';
  return record.status === 'waiting' ? 'running' : record.status;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
