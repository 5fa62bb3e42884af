/**
 * One schedule: its definition (cron, time zone, policies, queue, priority,
 * input), where it stands (paused, next ticks, last tick, a buffered tick),
 * its actions, and the flows it started, with links to them.
 */
import type { ScheduleDetail, SessionInfo } from '../../api-types.js';
import { get } from '../api.js';
import { badge, flowLink, h, relative, replace, section, time, valueBlock } from '../dom.js';
import { scheduleButtons } from '../schedule-actions.js';
import { guarded, type Page } from './page.js';
import { lastTick, policyText, stateBadge } from './schedules.js';

/** The page of the schedule `?id=`. */
export function schedulePage(params: URLSearchParams, session: SessionInfo): Page {
  const id = params.get('id') ?? '';
  const head = h('div', { class: 'flow-head' });
  const status = h('p', { class: 'action-status', id: 'action-status', role: 'status' });
  const actions = h('div', { id: 'schedule-actions' });
  const body = h('div');
  const el = h(
    'div',
    { class: 'page schedule' },
    head,
    h('div', { class: 'card' }, h('h2', null, 'Actions'), actions, status),
    body,
  );
  const page: Page = {
    el,
    refresh: () =>
      guarded(el, async () => {
        const s = await get<ScheduleDetail>('api/schedule', { id });
        const policy = policyText(s);
        replace(
          head,
          h(
            'h1',
            null,
            'Schedule ',
            h('span', { class: 'mono', id: 'schedule-id' }, s.id),
            ' ',
            stateBadge(s.paused),
          ),
          h(
            'dl',
            { class: 'facts', id: 'schedule-facts' },
            ...facts([
              ['cron', h('code', { id: 'schedule-cron' }, s.cron)],
              ['time zone', s.timezone],
              ['flow type', s.flowType],
              ['queue', h('a', { href: `#/queues?queue=${encodeURIComponent(s.queue)}` }, s.queue)],
              ['priority', String(s.priority)],
              ['overlap', `${policy.overlap} (while the last tick's flow runs)`],
              ['catch-up', `${policy.catchup} (missed ticks after downtime)`],
              [
                'next tick',
                s.nextRunAt === undefined
                  ? s.paused
                    ? 'none while paused'
                    : 'never (the expression fires no more)'
                  : `${time(s.nextRunAt)} (${relative(s.nextRunAt, s.now)})`,
              ],
              ['last tick', lastTick(s, s.now)],
              ...(s.bufferedAt === undefined
                ? []
                : ([
                    ['buffered tick', `${time(s.bufferedAt)}, starts when the last flow finishes`],
                  ] as const)),
              ['created', time(s.createdAt)],
              ['changed', `${time(s.updatedAt)} (revision ${s.revision})`],
            ]),
          ),
        );
        replace(
          actions,
          scheduleButtons(s, session.readOnly || !s.actions.trigger, status, () => void page.refresh()),
        );
        replace(
          body,
          s.upcoming.length > 0
            ? section(
                'Upcoming ticks',
                h(
                  'ol',
                  { id: 'upcoming' },
                  ...s.upcoming.map((t) => h('li', null, `${time(t)} (${relative(t, s.now)})`)),
                ),
              )
            : null,
          section('Input of every flow', valueBlock(s.input)),
          section('Flows it started', flows(s)),
        );
      }),
  };
  return page;
}

function facts(rows: readonly (readonly [string, Node | string])[]): Node[] {
  return rows.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]);
}

function flows(s: ScheduleDetail): HTMLElement {
  const all = `#/flows?type=${encodeURIComponent(s.flowType)}&id=${encodeURIComponent(`${s.id}@`)}`;
  if (s.flows.length === 0)
    return h('p', { class: 'muted', id: 'schedule-flows-none' }, 'None yet (or purged).');
  return h(
    'div',
    null,
    h(
      'table',
      { class: 'grid', id: 'schedule-flows' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['flow', 'status', 'created', 'finished', 'waiting / error'].map((t) => h('th', null, t)),
        ),
      ),
      h(
        'tbody',
        null,
        ...s.flows.map((f) =>
          h(
            'tr',
            { 'data-id': f.id, 'data-status': f.status },
            h('td', null, flowLink(f.id)),
            h('td', null, badge(f.status)),
            h('td', { class: 'when', title: time(f.createdAt) }, relative(f.createdAt, s.now)),
            h('td', { class: 'when' }, f.finishedAt ? relative(f.finishedAt, s.now) : ''),
            h(
              'td',
              { class: 'detail' },
              f.error
                ? h('span', { class: 'error-text' }, f.error)
                : (f.waitingFor?.text ?? f.waiting.join(', ')),
            ),
          ),
        ),
      ),
    ),
    s.moreFlows ? h('p', null, h('a', { href: all }, 'all of them…')) : null,
  );
}
