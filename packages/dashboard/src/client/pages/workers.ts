/**
 * Workers, as far as the store knows them: the lease owners of running flows,
 * with the flows each holds and when their leases expire. (A worker registry
 * with heartbeats will show idle workers too.)
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
      'Workers seen holding leases on running flows. An expired lease is reclaimable by any worker.',
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
  if (workers.length === 0) return h('p', { class: 'muted' }, 'No worker holds a flow right now.');
  const now = Date.now();
  return h(
    'table',
    { class: 'grid' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ...['id', 'host', 'pid', 'last write', 'flows held', 'lease expiries'].map((t) => h('th', null, t)),
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
          h('td', null, w.host ?? '—'),
          h('td', null, w.pid === undefined ? '—' : String(w.pid)),
          h('td', null, w.lastWriteAgeMs === undefined ? '—' : `${duration(w.lastWriteAgeMs)} ago`),
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
        ),
      ),
    ),
  );
}
