/**
 * Overview: flows by status (links to the filtered list), by type and queue
 * with queue depth, started/finished/failed per minute as a chart, timers due
 * soon, and the workers seen holding leases.
 */
import type { Overview } from '../../api-types.js';
import { get } from '../api.js';
import { perMinuteChart } from '../chart.js';
import { badge, flowLink, h, relative, replace, section } from '../dom.js';
import { guarded, type Page } from './page.js';
import { workersTable } from './workers.js';

const ORDER = ['pending', 'running', 'suspended', 'completed', 'failed', 'cancelled'] as const;

/** The overview page. */
export function overviewPage(): Page {
  const counts = h('div', { class: 'counts', id: 'status-counts' });
  const chart = h('div', { class: 'chart', id: 'per-minute' });
  const types = h('div');
  const queues = h('div');
  const timers = h('div');
  const workers = h('div');
  const note = h('p', { class: 'muted small' });
  const el = h(
    'div',
    { class: 'page overview' },
    h('h1', null, 'Overview'),
    counts,
    section('Started, finished and failed per minute (last hour)', chart),
    h('div', { class: 'columns' }, section('By type', types), section('By queue', queues)),
    h(
      'div',
      { class: 'columns' },
      section('Timers due within the hour', timers),
      section('Workers', workers),
    ),
    note,
  );
  let drawChart: ((data: Overview['perMinute']) => void) | undefined;
  return {
    el,
    refresh: () =>
      guarded(el, async () => {
        const o = await get<Overview>('api/overview');
        replace(
          counts,
          ...ORDER.map((status) => {
            const { count, capped } = o.byStatus[status];
            return h(
              'a',
              { class: `count status-${status}`, href: `#/flows?status=${status}`, 'data-status': status },
              h('span', { class: 'number' }, `${count.toLocaleString()}${capped ? '+' : ''}`),
              badge(status),
            );
          }),
        );
        drawChart ??= perMinuteChart(chart);
        drawChart(o.perMinute);
        replace(
          types,
          table(
            ['type', 'flows'],
            o.byType.map((t) => [
              h('a', { href: `#/flows?type=${encodeURIComponent(t.name)}` }, t.name),
              t.count.toLocaleString(),
            ]),
          ),
        );
        replace(
          queues,
          table(
            ['queue', 'flows', 'ready now'],
            o.byQueue.map((q) => [
              h('a', { href: `#/flows?queue=${encodeURIComponent(q.name)}` }, q.name),
              q.count.toLocaleString(),
              q.ready.toLocaleString(),
            ]),
          ),
        );
        replace(
          timers,
          o.timers.length === 0
            ? h('p', { class: 'muted' }, 'None.')
            : table(
                ['flow', 'type', 'due'],
                o.timers.map((t) => [flowLink(t.flowId), t.type, relative(t.at)]),
              ),
        );
        replace(workers, workersTable(o.workers));
        replace(
          note,
          `Counts are exact up to ${o.limit.toLocaleString()} flows per status ("+" past it); types, queues and the chart cover the ${o.sample.toLocaleString()} flows counted. ${o.ms} ms.`,
        );
      }),
  };
}

/** A small table of text or nodes. */
export function table(
  headings: readonly string[],
  rows: readonly (readonly (Node | string)[])[],
): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'muted' }, 'None.');
  return h(
    'table',
    { class: 'grid' },
    h('thead', null, h('tr', null, ...headings.map((t) => h('th', null, t)))),
    h('tbody', null, ...rows.map((cells) => h('tr', null, ...cells.map((c) => h('td', null, c))))),
  );
}
