/**
 * Workers: the store's registry (heartbeat age, host, pid, queues, what they
 * report), with the flows each holds and when their leases expire; lease
 * owners that are not registered (executors, workers with liveness off) too.
 */
import type { WorkerView } from '../../api-types.js';
import { get } from '../api.js';
import { duration, flowLink, h, relative, replace } from '../dom.js';
import { guarded, type Page } from './page.js';

/** The workers page. */
export function workersPage(): Page {
  const box = h('div', { id: 'workers' });
  const el = h(
    'div',
    { class: 'page workers' },
    h('h1', null, 'Workers'),
    h(
      'p',
      { class: 'muted' },
      'Live workers from the registry (a worker silent past its lapse is declared dead and its leases expire), and other holders of leases on running flows. An expired lease is reclaimable by any worker.',
    ),
    box,
  );
  return {
    el,
    refresh: () =>
      guarded(el, async () => {
        const { workers } = await get<{ workers: WorkerView[] }>('api/workers');
        replace(box, workersTable(workers));
      }),
  };
}

/** A table of workers (also on the overview). */
export function workersTable(workers: readonly WorkerView[]): HTMLElement {
  if (workers.length === 0) return h('p', { class: 'muted' }, 'No live worker, and no flow held.');
  const now = Date.now();
  const table = h(
    'table',
    { class: 'grid' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ...['id', 'kind', 'host', 'pid', 'heartbeat', 'serves', 'flows held', 'lease expiries', 'stats'].map(
          (t) => h('th', null, t),
        ),
      ),
    ),
    h(
      'tbody',
      null,
      ...workers.map((w) =>
        h(
          'tr',
          { 'data-worker': w.id },
          h('td', { class: 'mono' }, w.id),
          h(
            'td',
            null,
            w.registered ? [w.kind ?? 'worker', w.name ? ` ${w.name}` : ''].join('') : 'lease owner',
          ),
          h('td', null, w.host ?? '—'),
          h('td', null, w.pid === undefined ? '—' : String(w.pid)),
          h(
            'td',
            null,
            w.heartbeatAgeMs !== undefined
              ? `${duration(w.heartbeatAgeMs)} ago`
              : w.lastWriteAgeMs !== undefined
                ? `last write ${duration(w.lastWriteAgeMs)} ago`
                : '—',
          ),
          h('td', { class: 'serves' }, serves(w)),
          h(
            'td',
            null,
            `${w.flows.length}: `,
            w.flows.slice(0, 5).map((f, i) => [i ? ', ' : '', flowLink(f.id)]),
            w.flows.length > 5 ? ' …' : '',
          ),
          h(
            'td',
            { class: w.nextExpiry !== undefined && w.nextExpiry < now ? 'error-text' : '' },
            w.nextExpiry === undefined ? '—' : `next ${relative(w.nextExpiry, now)}`,
          ),
          h('td', { class: 'mono' }, w.stats ? statsText(w.stats) : '—'),
        ),
      ),
    ),
  );
  // Nine columns: scroll sideways on the overview's half-width card rather than overflow it.
  return h('div', { class: 'scroll-x' }, table);
}

/** The flow types a worker runs, each with the code versions it serves (`order v1, v2`). */
function serves(w: WorkerView): string {
  if (!w.types || w.types.length === 0) return '—';
  return w.types
    .map((type) => {
      const versions = w.versions?.[type];
      return versions && versions.length > 0 ? `${type} v${versions.join(', v')}` : type;
    })
    .join('; ');
}

/** `flowsRun 12, failed 1` from what a worker reports. */
function statsText(stats: Readonly<Record<string, unknown>>): string {
  return Object.entries(stats)
    .map(([key, value]) => `${key} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(', ');
}
