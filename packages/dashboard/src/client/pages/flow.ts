/**
 * One flow: summary, actions, progress, pending waits, the timeline, its
 * DAGs, the selected operation's detail, payloads, parent and children.
 */
import type { FlowDetail, SessionInfo, TimelineItem, WaitingView, WaitView } from '../../api-types.js';
import { get } from '../api.js';
import { dagPicture } from '../dag.js';
import { badge, duration, flowLink, h, relative, replace, section, time, valueBlock } from '../dom.js';
import { actionsBox } from '../flow-actions.js';
import { gantt } from '../gantt.js';
import { guarded, type Page } from './page.js';

/** The page of the flow `?id=`. */
export function flowPage(params: URLSearchParams, session: SessionInfo): Page {
  const id = params.get('id') ?? '';
  const head = h('div', { class: 'flow-head' });
  const actions = h('div');
  const status = h('p', { class: 'action-status', id: 'action-status', role: 'status' });
  const actionsCard = h(
    'div',
    { class: 'card', id: 'actions-card' },
    h('h2', null, 'Actions'),
    actions,
    status,
  );
  const body = h('div', { class: 'flow-body' });
  const el = h('div', { class: 'page flow' }, head, actionsCard, body);
  let selected: number | undefined;
  let actionKey = '';
  let last: FlowDetail | undefined;

  const select = (position: number) => {
    selected = position;
    if (last) render(last);
  };

  const render = (flow: FlowDetail) => {
    replace(head, summary(flow));
    const key = JSON.stringify([
      flow.actions,
      flow.waits.map((w) => (w.kind === 'signal' ? w.name : w.kind)),
    ]);
    if (key !== actionKey) {
      actionKey = key;
      replace(
        actions,
        actionsBox(flow, session.readOnly, status, () => void page.refresh()),
      );
    }
    const chosen = flow.timeline.find((t) => t.position === selected);
    replace(
      body,
      flow.progressValue ? section('Progress', progress(flow)) : null,
      flow.waits.length > 0 || flow.signals.length > 0 ? section('Pending waits', waits(flow)) : null,
      section(
        'Timeline',
        flow.timeline.length === 0 ? h('p', { class: 'muted' }, 'No operations recorded yet.') : null,
        h('div', { class: 'scroll-x' }, gantt(flow, select)),
      ),
      ...flow.dags.map((dag) =>
        section(
          `DAG ${dag.name}`,
          dag.shapeRecorded
            ? null
            : h(
                'p',
                { class: 'muted' },
                'This history holds no shape for the DAG (an older executor): nodes are drawn without edges.',
              ),
          h('div', { class: 'scroll-x', id: `dag-${dag.position}` }, dagPicture(dag, select)),
          legend(),
        ),
      ),
      chosen ? section(`Operation ${chosen.position}: ${chosen.key}`, operation(chosen)) : null,
      section('Input', valueBlock(flow.input)),
      flow.result ? section('Result', valueBlock(flow.result)) : null,
      flow.errorDetail
        ? section(flow.status === 'cancelled' ? 'Cancellation' : 'Error', valueBlock(flow.errorDetail))
        : null,
      section('Parent and children', family(flow)),
    );
  };

  const page: Page = {
    el,
    flowId: id,
    wants: (change) => change.lists || change.progress.includes(id) || change.finished.includes(id),
    refresh: () =>
      guarded(el, async () => {
        last = await get<FlowDetail>('api/flow', { id });
        render(last);
      }),
  };
  return page;
}

function summary(flow: FlowDetail): HTMLElement {
  const facts: [string, Node | string][] = [
    ['type', flow.type],
    ['queue', flow.queue],
    ['created', time(flow.createdAt)],
    ['updated', relative(flow.updatedAt, flow.now)],
    [
      'finished',
      flow.finishedAt ? `${time(flow.finishedAt)} (${duration(flow.finishedAt - flow.createdAt)})` : '—',
    ],
    ['runs', String(flow.runCount)],
    ['priority', String(flow.priority)],
  ];
  if (flow.leaseOwner)
    facts.push(['lease', `${flow.leaseOwner}, expires ${relative(flow.leaseExpiresAt, flow.now)}`]);
  if (flow.runAt && flow.status !== 'running' && flow.status !== 'completed')
    facts.push(['runs at', time(flow.runAt)]);
  if (flow.cancelRequested) facts.push(['cancel', 'requested']);
  if (flow.waitingFor) facts.push(['waiting for', waitingFor(flow.waitingFor, flow.now)]);
  if (flow.abandonedRuns > 0) {
    // Why a flow is not progressing: runs cut short in a row, and the last cause.
    facts.push([
      'abandoned runs',
      h('span', { class: 'error-text', id: 'abandoned-runs' }, String(flow.abandonedRuns)),
    ]);
    if (flow.lastError) facts.push(['last error', h('span', { class: 'error-text' }, flow.lastError.text)]);
  }
  if (flow.damage)
    facts.push(['damaged', h('span', { class: 'error-text', id: 'flow-damage' }, flow.damage)]);
  if (flow.traceUrl)
    facts.push([
      'trace',
      h(
        'a',
        { href: flow.traceUrl, target: '_blank', rel: 'noopener noreferrer', id: 'trace-link' },
        flow.traceId ?? 'trace',
      ),
    ]);
  else if (flow.traceId) facts.push(['trace id', h('span', { class: 'mono' }, flow.traceId)]);
  if (flow.parent) facts.push(['parent', flowLink(flow.parent.id)]);
  return h(
    'div',
    null,
    h('h1', null, h('span', { class: 'mono', id: 'flow-id' }, flow.id), ' ', badge(flow.status)),
    flow.error ? h('p', { class: 'error-text', id: 'flow-error' }, flow.error) : null,
    h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
  );
}

/** Why a pending flow is not running yet: the limit it waits on and what counts against it now. */
function waitingFor(w: WaitingView, now: number): HTMLElement {
  const queue = h('a', { href: `#/queues?queue=${encodeURIComponent(w.queue)}` }, w.queue);
  const of = (used: number | undefined) =>
    w.limit === undefined ? `${used ?? '?'} running` : `${used ?? '?'} of at most ${w.limit}`;
  const detail: (Node | string)[] =
    w.reason === 'debounce'
      ? [
          `: gathering calls; starts ${w.runAt === undefined ? 'after the quiet period' : relative(w.runAt, now)} unless more come`,
        ]
      : w.reason === 'rate-limit'
        ? [': queue ', queue, ` started ${of(w.recentStarts)} flows in the last ${duration(w.periodMs)}`]
        : w.reason === 'key-concurrency'
          ? [': key ', h('code', null, w.key ?? '?'), ' of queue ', queue, ` runs ${of(w.running)}`]
          : [': queue ', queue, ` runs ${of(w.running)}`];
  return h('span', { id: 'waiting-for', 'data-reason': w.reason }, h('strong', null, w.text), ...detail);
}

/** The flow's last progress: a bar when the value says how far along it is, and the value itself. */
function progress(flow: FlowDetail): HTMLElement {
  const bar = flow.progressBar;
  return h(
    'div',
    { class: 'progress-box', id: 'progress' },
    bar
      ? h(
          'p',
          null,
          h('progress', { id: 'progress-bar', value: bar.fraction, max: 1 }, bar.label),
          h('span', { class: 'progress-label', id: 'progress-label' }, bar.label),
        )
      : null,
    h('p', { class: 'muted small' }, `reported ${relative(flow.progressAt, flow.now)}`),
    h('div', { id: 'progress-value' }, valueBlock(flow.progressValue)),
  );
}

function waits(flow: FlowDetail): HTMLElement {
  const item = (w: WaitView) => {
    if (w.kind === 'timer')
      return h('li', { 'data-wait': 'timer' }, `timer due ${time(w.at)} (${relative(w.at, flow.now)})`);
    if (w.kind === 'signal') return h('li', { 'data-wait': 'signal' }, 'signal ', h('code', null, w.name));
    return h(
      'li',
      { 'data-wait': 'child' },
      'child ',
      flowLink(w.flowId),
      w.type ? ` (${w.type})` : '',
      ' ',
      w.status ? badge(w.status) : null,
    );
  };
  return h(
    'div',
    null,
    h('ul', { id: 'waits' }, ...flow.waits.map(item)),
    flow.signals.length > 0
      ? h(
          'p',
          null,
          'Buffered signals (sent, not yet consumed): ',
          flow.signals.map((s, i) => [
            i ? ', ' : '',
            h('code', null, s.name),
            ` ${relative(s.sentAt, flow.now)}`,
          ]),
        )
      : null,
  );
}

function operation(item: TimelineItem): HTMLElement {
  return h(
    'div',
    null,
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'kind'),
      h('dd', null, item.kind),
      h('dt', null, 'status'),
      h('dd', null, badge(item.status)),
      h('dt', null, 'attempts'),
      h('dd', null, String(item.attempts)),
      h('dt', null, 'started'),
      h('dd', null, time(item.startedAt)),
      h('dt', null, 'duration'),
      h('dd', null, duration(item.durationMs) || '—'),
      item.wakeAt
        ? [h('dt', null, item.backoff ? 'next attempt' : 'wakes'), h('dd', null, time(item.wakeAt))]
        : null,
    ),
    item.errorDetail ? [h('h3', null, 'Error'), valueBlock(item.errorDetail)] : null,
    item.result ? [h('h3', null, 'Result'), valueBlock(item.result)] : null,
  );
}

function family(flow: FlowDetail): HTMLElement {
  return h(
    'div',
    null,
    h(
      'p',
      null,
      'Parent: ',
      flow.parent
        ? [flowLink(flow.parent.id), flow.parent.status ? [' ', badge(flow.parent.status)] : null]
        : 'none (a top-level flow)',
    ),
    flow.children.length === 0
      ? h('p', { class: 'muted' }, 'No children.')
      : h(
          'table',
          { class: 'grid', id: 'children' },
          h(
            'tbody',
            null,
            ...flow.children.map((c) =>
              h(
                'tr',
                null,
                h('td', null, flowLink(c.id)),
                h('td', null, c.type),
                h('td', null, badge(c.status)),
              ),
            ),
          ),
        ),
    flow.moreChildren
      ? h('p', null, h('a', { href: `#/flows?parent=${encodeURIComponent(flow.id)}` }, 'more children…'))
      : null,
  );
}

function legend(): HTMLElement {
  return h(
    'p',
    { class: 'legend' },
    ...['pending', 'running', 'completed', 'failed', 'skipped'].map((st) => [badge(st), ' ']),
  );
}
