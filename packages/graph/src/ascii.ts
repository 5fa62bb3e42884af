/**
 * A terminal rendering of a graph: one box per layer, arrows between, a
 * status mark per node (used by `ergon flows show`).
 *
 * @module
 */
import type { Graph } from './graph.js';
import { layersOf } from './internal/layers.js';
import { mapControls } from './internal/text.js';
import type { NodeStatus } from './types.js';

/** Options for {@link renderAscii}. */
export interface RenderAsciiOptions {
  /** Status per node name; nodes missing from it show as `pending`. Without it, no marks. */
  readonly status?: Readonly<Record<string, NodeStatus>>;
  /** `'unicode'` (default) draws with box-drawing characters; `'ascii'` uses only ASCII. */
  readonly charset?: 'unicode' | 'ascii';
}

interface Glyphs {
  readonly box: readonly [tl: string, tr: string, bl: string, br: string, h: string, v: string, tee: string];
  readonly arrow: string;
  readonly from: string;
  readonly plain: string;
  readonly marks: Readonly<Record<NodeStatus, string>>;
}

const STATUSES: readonly NodeStatus[] = ['completed', 'running', 'failed', 'skipped', 'pending'];

const GLYPHS: Readonly<Record<'unicode' | 'ascii', Glyphs>> = {
  unicode: {
    box: ['┌', '┐', '└', '┘', '─', '│', '┬'],
    arrow: '▼',
    from: '◀',
    plain: '•',
    marks: { completed: '✔', running: '◐', failed: '✘', skipped: '⊘', pending: '○' },
  },
  ascii: {
    box: ['+', '+', '+', '+', '-', '|', '+'],
    arrow: 'v',
    from: '<-',
    plain: '*',
    marks: { completed: '+', running: '>', failed: 'x', skipped: '-', pending: '.' },
  },
};

/**
 * Renders `graph` for a terminal: a title, then its layers top to bottom (a
 * node's layer is its longest path from a root), each node with its status
 * mark and the nodes it depends on, then a legend when statuses are given.
 * Control characters in names are shown escaped, so a name cannot move the
 * cursor or colour the terminal.
 */
export function renderAscii(graph: Graph, options: RenderAsciiOptions = {}): string {
  const g = GLYPHS[options.charset ?? 'unicode'];
  const [tl, tr, bl, br, h, v, tee] = g.box;
  const { status } = options;
  const mark = (name: string) => (status === undefined ? g.plain : g.marks[status[name] ?? 'pending']);
  const layers = layersOf(graph);
  const boxes = layers.map((names, i) => ({
    title: ` layer ${i + 1} `,
    rows: names.map((name) => {
      const deps = graph.node(name)!.deps;
      const from = deps.length === 0 ? '' : ` ${g.from} ${deps.map(safe).join(', ')}`;
      return `${mark(name)} ${safe(name)}${from}`;
    }),
  }));
  const inner = Math.max(
    20,
    ...boxes.flatMap((b) => [width(b.title) + 2, ...b.rows.map((r) => width(r) + 2)]),
  );
  const mid = Math.floor(inner / 2);
  const out = [title(graph, status)];
  if (boxes.length === 0) out.push('  (no nodes)');
  for (const [i, box] of boxes.entries()) {
    if (i > 0) out.push(`${' '.repeat(mid + 1)}${g.arrow}`);
    out.push(`${tl}${h}${box.title}${h.repeat(inner - 1 - width(box.title))}${tr}`);
    for (const row of box.rows) out.push(`${v} ${row}${' '.repeat(inner - 1 - width(row))}${v}`);
    const last = i === boxes.length - 1;
    out.push(
      last ? `${bl}${h.repeat(inner)}${br}` : `${bl}${h.repeat(mid)}${tee}${h.repeat(inner - mid - 1)}${br}`,
    );
  }
  if (status !== undefined) out.push(STATUSES.map((s) => `${g.marks[s]} ${s}`).join('  '));
  return `${out.join('\n')}\n`;
}

function title(graph: Graph, status: Readonly<Record<string, NodeStatus>> | undefined): string {
  const count = graph.nodes.length;
  const head = `graph ${safe(graph.name)} (${count} node${count === 1 ? '' : 's'})`;
  if (status === undefined) return head;
  const tally = new Map<NodeStatus, number>();
  for (const name of graph.order) {
    const s = status[name] ?? 'pending';
    tally.set(s, (tally.get(s) ?? 0) + 1);
  }
  const parts = STATUSES.filter((s) => tally.has(s)).map((s) => `${tally.get(s)} ${s}`);
  return `${head}: ${parts.join(', ')}`;
}

function safe(text: string): string {
  return mapControls(text, (code) => `\\u${code.toString(16).padStart(4, '0')}`);
}

function width(text: string): number {
  return [...text].length;
}
