/**
 * The dashboard page: a header, a router over the URL's hash, and live
 * updates from the server's event stream (each change refreshes the page
 * shown, at most a few times a second).
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import type { ChangeMessage, SessionInfo } from '../api-types.js';
import { loadSession } from './api.js';
import { h, replace } from './dom.js';
import { flowPage } from './pages/flow.js';
import { flowsPage } from './pages/flows.js';
import { overviewPage } from './pages/overview.js';
import type { Page } from './pages/page.js';
import { pipelinesPage } from './pages/pipelines.js';
import { queuesPage } from './pages/queues.js';
import { schedulePage } from './pages/schedule.js';
import { schedulesPage } from './pages/schedules.js';
import { workersPage } from './pages/workers.js';

const ROUTES: Record<
  string,
  { title: string; make: (params: URLSearchParams, session: SessionInfo) => Page }
> = {
  '/': { title: 'Overview', make: overviewPage },
  '/flows': { title: 'Flows', make: flowsPage },
  '/flow': { title: 'Flow', make: flowPage },
  '/workers': { title: 'Workers', make: workersPage },
  '/schedules': { title: 'Schedules', make: schedulesPage },
  '/schedule': { title: 'Schedule', make: schedulePage },
  '/queues': { title: 'Queues', make: queuesPage },
  '/pipelines': { title: 'Pipelines', make: pipelinesPage },
};
const NAV = ['/', '/flows', '/workers', '/schedules', '/queues', '/pipelines'];

let current: Page | undefined;
let events: EventSource | undefined;
let refreshing = false;
let again = false;
let timer: number | undefined;

async function start(): Promise<void> {
  const root = document.getElementById('app') as HTMLElement;
  const session = await loadSession();
  const live = h('span', { class: 'live', id: 'live' }, session.live ? 'connecting' : 'polling');
  const nav = h(
    'nav',
    null,
    ...NAV.map((path) => h('a', { href: `#${path}`, 'data-path': path }, ROUTES[path]?.title ?? path)),
  );
  const main = h('main', { id: 'main' });
  replace(
    root,
    h(
      'header',
      null,
      h('a', { class: 'brand', href: '#/' }, 'Ergon'),
      nav,
      h('span', { class: 'spacer' }),
      session.readOnly ? h('span', { class: 'badge readonly', id: 'read-only' }, 'read-only') : null,
      h('span', { class: 'muted' }, `store: ${session.store}`),
      live,
    ),
    main,
  );
  const route = () => {
    const hash = location.hash.replace(/^#/, '') || '/';
    const [path = '/', query = ''] = hash.split('?');
    const entry = ROUTES[path] ?? ROUTES['/'];
    if (!entry) return;
    current?.dispose?.();
    current = entry.make(new URLSearchParams(query), session);
    document.title = `${entry.title} · Ergon`;
    for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.path === path);
    replace(main, current.el);
    void refresh();
    connect(current.flowId, live);
  };
  window.addEventListener('hashchange', route);
  route();
}

/** Refreshes the page shown; calls during a refresh coalesce into one more. */
async function refresh(): Promise<void> {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    await current?.refresh();
  } finally {
    refreshing = false;
    if (again) {
      again = false;
      void refresh();
    }
  }
}

function soon(): void {
  if (timer !== undefined) return;
  timer = window.setTimeout(() => {
    timer = undefined;
    void refresh();
  }, 300);
}

let connectedFor: string | undefined | null = null;

function connect(flowId: string | undefined, live: HTMLElement): void {
  if (events && connectedFor === flowId) return;
  events?.close();
  connectedFor = flowId;
  events = new EventSource(
    flowId === undefined ? 'api/events' : `api/events?flow=${encodeURIComponent(flowId)}`,
  );
  events.addEventListener('open', () => {
    live.textContent = 'live';
    live.className = 'live on';
  });
  events.addEventListener('error', () => {
    live.textContent = 'reconnecting';
    live.className = 'live off';
  });
  events.addEventListener('change', (event) => {
    if (concerns(JSON.parse((event as MessageEvent<string>).data) as ChangeMessage)) soon();
  });
  events.addEventListener('flow', soon);
}

/** Whether a change concerns the page shown (a progress report only the pages showing it). */
function concerns(change: ChangeMessage): boolean {
  if (!current) return false;
  return current.wants ? current.wants(change) : change.lists;
}

start().catch((error: unknown) => {
  const root = document.getElementById('app');
  if (root) replace(root, h('p', { class: 'error' }, `The dashboard could not start: ${String(error)}`));
});
