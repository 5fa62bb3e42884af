/**
 * Queues: each queue's flow-control limits (concurrency, rate, per-key
 * concurrency, key weights) beside what counts against them now (running
 * flows, starts in the rate window, each busy key's running flows), its
 * pending flows and why they wait. A store without flow control says so.
 */
import type { QueuesPage, QueueView, SessionInfo } from '../../api-types.js';
import { get } from '../api.js';
import { duration, h, replace, section } from '../dom.js';
import { guarded, type Page } from './page.js';

/** The queues page; `?queue=` (repeatable) names queues to show besides the ones found. */
export function queuesPage(params: URLSearchParams, session: SessionInfo): Page {
  const asked = params.getAll('queue').filter((q) => q.trim() !== '');
  const box = h('div', { id: 'queues' });
  const info = h('p', { class: 'muted small' });
  const name = h('input', {
    name: 'queue',
    id: 'queue-name',
    placeholder: 'queue name',
    value: asked[0] ?? '',
  });
  const form = h(
    'form',
    { class: 'filters', id: 'queue-form' },
    name,
    h('button', { type: 'submit' }, 'Show'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = name.value.trim();
    location.hash = value === '' ? '#/queues' : `#/queues?queue=${encodeURIComponent(value)}`;
  });
  const el = h(
    'div',
    { class: 'page queues' },
    h('h1', null, 'Queues'),
    h(
      'p',
      { class: 'muted' },
      'Limits are kept in the store and every worker claims within them. Listed: queues live workers claim from, schedules start flows in, or that have unfinished flows; name another to see its limits.',
    ),
    form,
    box,
    info,
  );
  return {
    el,
    refresh: () =>
      guarded(el, async () => {
        const page = await get<QueuesPage>(
          `api/queues${asked.length ? `?${asked.map((q) => `queue=${encodeURIComponent(q)}`).join('&')}` : ''}`,
        );
        if (!page.supported) {
          replace(
            box,
            h(
              'p',
              { class: 'muted', id: 'queues-unsupported' },
              `Not supported by this store: the ${session.store} store has no flow control (queue limits).`,
            ),
          );
          replace(info, '');
          return;
        }
        replace(
          box,
          page.queues.length === 0 ? h('p', { class: 'muted' }, 'No queue found.') : page.queues.map(card),
        );
        replace(
          info,
          `${page.queues.length} queues${page.moreQueues ? ' (more not shown)' : ''} · ${page.ms} ms`,
        );
      }),
  };
}

function card(q: QueueView): HTMLElement {
  const limits = q.limits;
  const rows: [string, Node | string][] = [
    ['running', gauge('q-running', q.running, limits?.concurrency)],
    [
      'concurrency',
      h(
        'span',
        { class: 'q-concurrency' },
        limits?.concurrency === undefined ? 'no limit' : String(limits.concurrency),
      ),
    ],
    [
      'rate',
      limits?.rate
        ? h(
            'span',
            { class: 'q-rate' },
            gauge('q-rate-used', q.recentStarts, limits.rate.limit),
            ` starts in the last ${duration(limits.rate.periodMs)} (at most ${limits.rate.limit})`,
          )
        : h('span', { class: 'q-rate' }, 'no limit'),
    ],
    [
      'per key',
      h(
        'span',
        { class: 'q-key-concurrency' },
        limits?.keyConcurrency === undefined ? 'no limit' : `at most ${limits.keyConcurrency} running`,
      ),
    ],
    [
      'key weights',
      limits?.keyWeights && Object.keys(limits.keyWeights).length > 0
        ? Object.entries(limits.keyWeights)
            .map(([k, w]) => `${k} ${w}`)
            .join(', ')
        : 'all 1',
    ],
    [
      'pending',
      h('span', { class: 'q-pending' }, `${q.ready}${q.capped ? '+' : ''} ready, ${q.delayed} not due yet`),
    ],
    ['waiting for', h('span', { class: 'q-waiting' }, waitingText(q))],
    ['workers', `${q.workers} claim from it`],
  ];
  return section(
    `Queue ${q.name}`,
    h(
      'dl',
      { class: 'facts', 'data-queue': q.name },
      ...rows.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
    ),
    q.keys.length > 0 ? keysTable(q) : null,
    h('p', { class: 'small' }, h('a', { href: `#/flows?queue=${encodeURIComponent(q.name)}` }, 'its flows…')),
  );
}

/** `2 of 3` with a bar, or `2` without a limit. */
function gauge(cls: string, used: number, limit: number | undefined): HTMLElement {
  if (limit === undefined) return h('span', { class: cls }, String(used));
  return h(
    'span',
    { class: cls, 'data-used': used, 'data-limit': limit },
    h('progress', { value: Math.min(used, limit), max: limit }),
    ` ${used} of ${limit}`,
  );
}

function waitingText(q: QueueView): string {
  if (q.waiting.length === 0) return 'nothing held back';
  return q.waiting.map((w) => `${w.count} on the ${w.text}`).join(', ');
}

function keysTable(q: QueueView): HTMLElement {
  return h(
    'div',
    null,
    h('h3', null, 'Concurrency keys'),
    h(
      'table',
      { class: 'grid keys' },
      h('thead', null, h('tr', null, ...['key', 'running', 'queued', 'weight'].map((t) => h('th', null, t)))),
      h(
        'tbody',
        null,
        ...q.keys.map((k) =>
          h(
            'tr',
            { 'data-key': k.key },
            h('td', { class: 'mono' }, k.key),
            h(
              'td',
              { class: 'key-running' },
              k.limit === undefined ? String(k.running) : `${k.running} of ${k.limit}`,
            ),
            h('td', { class: 'key-queued' }, String(k.queued)),
            h('td', null, k.weight === undefined ? '1' : String(k.weight)),
          ),
        ),
      ),
    ),
    q.moreKeys ? h('p', { class: 'muted small' }, 'More keys have flows; the busiest are shown.') : null,
  );
}
