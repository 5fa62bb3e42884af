/**
 * A flow's timeline as an SVG Gantt chart: one row per history entry from
 * its start to its end (or to now while it runs), retry backoffs and timers
 * drawn dashed up to their due time, attempts and durations as labels. Bars
 * are clickable; `onSelect` gets the entry's position.
 */
import type { FlowDetail, TimelineItem } from '../api-types.js';
import { duration, s, time } from './dom.js';

const ROW = 22;
const LABEL = 230;
const WIDTH = 960;
const PAD = 8;

/** The chart for `flow`. */
export function gantt(flow: FlowDetail, onSelect: (position: number) => void): SVGSVGElement {
  const items = flow.timeline;
  const start = flow.createdAt;
  const ends = items.flatMap((i) => [i.finishedAt ?? flow.now, i.wakeAt ?? 0]);
  const end = Math.max(start + 1, flow.finishedAt ?? flow.now, ...ends);
  const plot = WIDTH - LABEL - PAD * 2;
  const x = (t: number) => LABEL + PAD + ((Math.min(Math.max(t, start), end) - start) / (end - start)) * plot;
  const height = (items.length + 2) * ROW + PAD;
  const svg = s('svg', {
    class: 'gantt',
    id: 'timeline',
    viewBox: `0 0 ${WIDTH} ${height}`,
    width: '100%',
    role: 'img',
    'aria-label': `timeline of ${items.length} operations`,
  });
  // Axis: start, middle and end times.
  for (const f of [0, 0.5, 1]) {
    const t = start + (end - start) * f;
    svg.append(
      s('line', { x1: x(t), x2: x(t), y1: ROW, y2: height - PAD, class: 'grid-line' }),
      s(
        'text',
        { x: x(t), y: ROW - 8, class: 'axis', 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle' },
        f === 0 ? time(t) : `+${duration(t - start)}`,
      ),
    );
  }
  // The flow itself.
  const flowEnd = flow.finishedAt ?? flow.now;
  svg.append(
    row(
      0,
      'flow',
      `${flow.type} (${flow.status})`,
      `status-${flow.status}`,
      x(start),
      x(flowEnd),
      `${duration(flowEnd - start)}${flow.finishedAt ? '' : ' so far'}`,
    ),
  );
  items.forEach((item, i) => {
    const g = bar(item, i + 1, x, flow.now);
    g.addEventListener('click', () => onSelect(item.position));
    svg.append(g);
  });
  return svg;
}

function bar(item: TimelineItem, index: number, x: (t: number) => number, now: number): SVGGElement {
  const waiting = item.status === 'waiting';
  const runEnd = item.finishedAt ?? (waiting ? Math.min(now, item.wakeAt ?? now) : now);
  const label =
    item.durationMs !== undefined ? duration(item.durationMs) : waiting ? waitText(item, now) : '';
  const attempts = item.attempts > 1 ? ` · ${item.attempts} attempts` : '';
  const g = row(
    index,
    `op-${item.position}`,
    `${item.position}  ${item.key}`,
    `status-${item.status}${item.backoff ? ' backoff' : ''}`,
    x(item.startedAt),
    x(item.kind === 'sleep' || item.kind === 'signal' ? item.startedAt : runEnd),
    `${label}${attempts}`,
  );
  if (waiting && item.wakeAt !== undefined) {
    // The wait still ahead: a retry backoff, a timer, a signal's timeout.
    const y = index * ROW + ROW + 4;
    g.append(
      s('rect', {
        x: x(item.kind === 'sleep' || item.kind === 'signal' ? item.startedAt : runEnd),
        y,
        width: Math.max(
          2,
          x(item.wakeAt) - x(item.kind === 'sleep' || item.kind === 'signal' ? item.startedAt : runEnd),
        ),
        height: ROW - 8,
        class: 'wait-bar',
      }),
    );
  }
  const tip = [
    `${item.key} (${item.kind}, ${item.status})`,
    `started ${time(item.startedAt)}`,
    item.finishedAt ? `finished ${time(item.finishedAt)} after ${duration(item.durationMs)}` : '',
    item.attempts > 1 ? `${item.attempts} attempts` : '',
    item.wakeAt ? `${item.backoff ? 'next attempt' : 'wakes'} ${time(item.wakeAt)}` : '',
    item.error ? `error: ${item.error}` : '',
  ].filter(Boolean);
  g.prepend(s('title', null, tip.join('\n')));
  return g;
}

function row(
  index: number,
  id: string,
  label: string,
  cls: string,
  x1: number,
  x2: number,
  note: string,
): SVGGElement {
  const y = index * ROW + ROW + 4;
  const shown = label.length > 34 ? `${label.slice(0, 33)}…` : label;
  return s(
    'g',
    { class: `gantt-row ${cls}`, 'data-row': id },
    s('text', { x: PAD, y: y + ROW / 2, class: 'gantt-label' }, shown),
    s('rect', { x: x1, y, width: Math.max(3, x2 - x1), height: ROW - 8, rx: 2, class: 'gantt-bar' }),
    s(
      'text',
      {
        // Right of the bar; near the right edge inside a long bar, or left of a short one.
        x: x2 + 130 <= WIDTH ? x2 + 6 : x2 - x1 > 130 ? x2 - 6 : x1 - 6,
        y: y + ROW / 2,
        class: x2 + 130 <= WIDTH ? 'gantt-note' : x2 - x1 > 130 ? 'gantt-note inside' : 'gantt-note',
        'text-anchor': x2 + 130 <= WIDTH ? 'start' : 'end',
      },
      note,
    ),
  );
}

function waitText(item: TimelineItem, now: number): string {
  if (item.backoff)
    return `retry ${item.wakeAt && item.wakeAt > now ? `in ${duration(item.wakeAt - now)}` : 'due'}`;
  if (item.wakeAt !== undefined) return item.wakeAt > now ? `due in ${duration(item.wakeAt - now)}` : 'due';
  return `waiting ${duration(now - item.startedAt)}`;
}
