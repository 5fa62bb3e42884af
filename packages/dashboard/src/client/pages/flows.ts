/**
 * Flows: filters (status, type, queue, time range, id) kept in the URL, a
 * table of one cursor page, and older/newer paging.
 */
import type { FlowListPage, FlowRow } from '../../api-types.js';
import { get } from '../api.js';
import { badge, flowLink, h, relative, replace, time } from '../dom.js';
import { guarded, type Page } from './page.js';

const STATUSES = ['pending', 'running', 'suspended', 'completed', 'failed', 'cancelled'];
const FILTERS = ['status', 'type', 'queue', 'id', 'since', 'until', 'parent'] as const;

/** The flows list for the filters in `params`. */
export function flowsPage(params: URLSearchParams): Page {
  const filter = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) ?? ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;
  const cursors: (string | undefined)[] = [undefined];
  let index = 0;
  let next: string | undefined;

  const table = h('tbody', { id: 'flows-body' });
  const info = h('span', { class: 'muted', id: 'flows-info' });
  const older = h('button', { type: 'button', id: 'older', onclick: () => move(1) }, 'Older →');
  const newer = h('button', { type: 'button', id: 'newer', onclick: () => move(-1) }, '← Newer');
  const form = filterForm(filter);
  const el = h(
    'div',
    { class: 'page flows' },
    h('h1', null, 'Flows'),
    form,
    h(
      'table',
      { class: 'grid', id: 'flows-table' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...[
            'id',
            'type',
            'queue',
            'status',
            'created',
            'finished',
            'runs',
            'progress',
            'waiting / error',
          ].map((t) => h('th', null, t)),
        ),
      ),
      table,
    ),
    h('div', { class: 'pager' }, newer, older, info),
  );

  const move = (step: number) => {
    if (step > 0 && next !== undefined) {
      cursors[index + 1] = next;
      index++;
    } else if (step < 0 && index > 0) index--;
    void page.refresh();
  };

  const page: Page = {
    el,
    // Rows show progress: a report of any flow may be on this page.
    wants: (change) => change.lists || change.progress.length > 0,
    refresh: () =>
      guarded(el, async () => {
        const result = await get<FlowListPage>('api/flows', {
          ...filter,
          since: toEpoch(filter.since),
          until: toEpoch(filter.until),
          cursor: cursors[index],
        });
        next = result.nextCursor;
        replace(table, ...(result.flows.length === 0 ? [emptyRow()] : result.flows.map(row)));
        newer.disabled = index === 0;
        older.disabled = next === undefined;
        replace(
          info,
          `page ${index + 1} · ${result.flows.length} flows · ${result.ms} ms` +
            (result.scanned !== undefined
              ? ` · id prefix searched in ${result.scanned.toLocaleString()} flows`
              : ''),
        );
      }),
  };
  return page;
}

function row(f: FlowRow): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-id': f.id, 'data-status': f.status },
    h('td', null, flowLink(f.id), f.parentId ? h('span', { class: 'muted small' }, ' (child)') : null),
    h('td', null, f.type),
    h('td', null, f.queue),
    h('td', null, badge(f.status)),
    h('td', { class: 'when', title: time(f.createdAt) }, relative(f.createdAt)),
    h('td', { class: 'when', title: time(f.finishedAt) }, f.finishedAt ? relative(f.finishedAt) : ''),
    h('td', null, String(f.runCount)),
    h(
      'td',
      { class: 'progress', title: f.progress?.text },
      f.progress?.fraction !== undefined ? h('progress', { value: f.progress.fraction, max: 1 }) : null,
      f.progress?.text,
    ),
    h(
      'td',
      { class: 'detail' },
      f.error
        ? h('span', { class: 'error-text' }, f.error)
        : f.waitingFor
          ? h('span', { class: 'waiting-for', 'data-reason': f.waitingFor.reason }, f.waitingFor.text)
          : f.waiting.join(', '),
    ),
  );
}

function emptyRow(): HTMLTableRowElement {
  return h('tr', null, h('td', { colspan: 9, class: 'muted' }, 'No flows match.'));
}

function filterForm(filter: Record<(typeof FILTERS)[number], string>): HTMLFormElement {
  const status = h(
    'select',
    { name: 'status', id: 'filter-status' },
    h('option', { value: '' }, 'any status'),
    ...STATUSES.map((s) => h('option', { value: s, selected: filter.status === s }, s)),
  );
  const input = (name: string, placeholder: string, type = 'text') =>
    h('input', {
      name,
      id: `filter-${name}`,
      type,
      placeholder,
      value: filter[name as (typeof FILTERS)[number]],
    });
  const form = h(
    'form',
    { class: 'filters', id: 'filters' },
    status,
    input('type', 'type'),
    input('queue', 'queue'),
    input('id', 'id or id prefix'),
    h('label', null, 'from ', input('since', '', 'datetime-local')),
    h('label', null, 'to ', input('until', '', 'datetime-local')),
    filter.parent ? h('input', { type: 'hidden', name: 'parent', value: filter.parent }) : null,
    filter.parent ? h('span', { class: 'muted' }, `children of ${filter.parent}`) : null,
    h('button', { type: 'submit' }, 'Filter'),
    h('a', { href: '#/flows', class: 'button' }, 'Clear'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form))
      if (typeof v === 'string' && v.trim() !== '') params.set(k, v.trim());
    location.hash = `#/flows?${params}`;
  });
  return form;
}

/** A `datetime-local` value as epoch ms (the server also takes ISO dates). */
function toEpoch(value: string): string | undefined {
  if (value === '') return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? String(ms) : value;
}
