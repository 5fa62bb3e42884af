/**
 * Schedules: each cron schedule kept in the store with its time zone, overlap
 * and catch-up policies, paused or not, its next tick and its last tick's
 * flow; pause, resume and run-now from the row. A store without schedules
 * says so.
 */
import type { ScheduleListPage, ScheduleView, SessionInfo } from '../../api-types.js';
import { get } from '../api.js';
import { badge, flowLink, h, relative, replace, time } from '../dom.js';
import { scheduleButtons } from '../schedule-actions.js';
import { guarded, type Page } from './page.js';

/** The page link to one schedule. */
export function scheduleHref(id: string): string {
  return `#/schedule?id=${encodeURIComponent(id)}`;
}

/** `skip`, `buffer one`, `catch up: latest` and the like, in words. */
export function policyText(s: Pick<ScheduleView, 'overlap' | 'catchup'>): {
  overlap: string;
  catchup: string;
} {
  return {
    overlap: s.overlap === 'buffer-one' ? 'buffer one' : s.overlap,
    catchup: typeof s.catchup === 'number' ? `up to ${s.catchup}` : s.catchup,
  };
}

/** The schedule's state as a badge: paused, or active. */
export function stateBadge(paused: boolean): HTMLSpanElement {
  return h(
    'span',
    { class: `badge ${paused ? 'status-suspended' : 'status-running'}` },
    paused ? 'paused' : 'active',
  );
}

/** The schedules page. */
export function schedulesPage(_params: URLSearchParams, session: SessionInfo): Page {
  const cursors: (string | undefined)[] = [undefined];
  let index = 0;
  let next: string | undefined;
  const box = h('div', { id: 'schedules' });
  const status = h('p', { class: 'action-status', id: 'action-status', role: 'status' });
  const older = h('button', { type: 'button', id: 'schedules-more', onclick: () => move(1) }, 'More →');
  const back = h('button', { type: 'button', id: 'schedules-back', onclick: () => move(-1) }, '← Back');
  const info = h('span', { class: 'muted' });
  const el = h(
    'div',
    { class: 'page schedules' },
    h('h1', null, 'Schedules'),
    h(
      'p',
      { class: 'muted' },
      'Cron schedules kept in the store: every worker fires them, one flow per tick, with the id <schedule>@<tick time>. Run now starts one flow as a tick would, without moving the schedule.',
    ),
    status,
    box,
    h('div', { class: 'pager' }, back, older, info),
  );
  const move = (step: number) => {
    if (step > 0 && next !== undefined) cursors[++index] = next;
    else if (step < 0 && index > 0) index--;
    void page.refresh();
  };
  const page: Page = {
    el,
    refresh: () =>
      guarded(el, async () => {
        const result = await get<ScheduleListPage>('api/schedules', { cursor: cursors[index] });
        next = result.nextCursor;
        back.disabled = index === 0;
        older.disabled = next === undefined;
        replace(info, `${result.schedules.length} schedules · ${result.ms} ms`);
        if (!result.supported) {
          replace(
            box,
            h(
              'p',
              { class: 'muted', id: 'schedules-unsupported' },
              `Not supported by this store: the ${session.store} store keeps no schedules.`,
            ),
          );
          return;
        }
        replace(
          box,
          result.schedules.length === 0
            ? h(
                'p',
                { class: 'muted', id: 'schedules-none' },
                'No schedules. Create one with client.schedules.create or ergon schedules create.',
              )
            : table(result.schedules, session.readOnly, status, () => void page.refresh()),
        );
      }),
  };
  return page;
}

function table(
  schedules: readonly ScheduleView[],
  readOnly: boolean,
  status: HTMLElement,
  done: () => void,
): HTMLElement {
  const now = Date.now();
  const headings = [
    'id',
    'flow type',
    'queue',
    'cron',
    'time zone',
    'overlap',
    'catch-up',
    'state',
    'next tick',
    'last tick',
    '',
  ];
  return h(
    'table',
    { class: 'grid', id: 'schedules-table' },
    h('thead', null, h('tr', null, ...headings.map((t) => h('th', null, t)))),
    h(
      'tbody',
      null,
      ...schedules.map((s) => {
        const policy = policyText(s);
        return h(
          'tr',
          { 'data-schedule': s.id, 'data-paused': String(s.paused) },
          h('td', null, h('a', { href: scheduleHref(s.id), class: 'mono' }, s.id)),
          h('td', null, s.flowType),
          h('td', null, h('a', { href: `#/queues?queue=${encodeURIComponent(s.queue)}` }, s.queue)),
          h('td', { class: 'mono cron' }, s.cron),
          h('td', { class: 'timezone' }, s.timezone),
          h('td', { class: 'overlap' }, policy.overlap),
          h('td', { class: 'catchup' }, policy.catchup),
          h('td', { class: 'state' }, stateBadge(s.paused)),
          h(
            'td',
            { class: 'when next', title: time(s.nextRunAt) },
            s.nextRunAt === undefined ? (s.paused ? '—' : 'never') : relative(s.nextRunAt, now),
          ),
          h('td', { class: 'when last' }, lastTick(s, now)),
          h('td', null, scheduleButtons(s, readOnly, status, done)),
        );
      }),
    ),
  );
}

/** The last tick: when, its flow (a link) and the flow's status. */
export function lastTick(s: ScheduleView, now: number): Node {
  if (s.lastFlowId === undefined) return document.createTextNode('none yet');
  return h(
    'span',
    null,
    s.lastTickAt === undefined ? '' : `${relative(s.lastTickAt, now)} `,
    flowLink(s.lastFlowId, 'flow'),
    s.lastStatus ? [' ', badge(s.lastStatus)] : h('span', { class: 'muted' }, ' (gone)'),
  );
}
