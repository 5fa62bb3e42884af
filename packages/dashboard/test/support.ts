// Shared set-up of the dashboard's suites: a SQLite file per suite, a real
// worker running real flows, the dashboard served by a plain Node HTTP server,
// and Debian's Chromium through playwright-core.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionLog } from '@ergon/core';
import { Client, type FlowSource, Worker, type WorkerOptions } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createDashboard, type Dashboard, type DashboardOptions } from '../src/index.js';

/** The token of the test dashboards. */
export const TOKEN = 'test-token-0123456789abcdef';

/** Where browser tests leave their screenshots (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

/** A temporary SQLite store; `remove` closes it and deletes its folder. */
export async function sqliteStore(): Promise<{
  store: ExecutionLog;
  path: string;
  remove: () => Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'ergon-dashboard-'));
  const path = join(dir, 'ergon.db');
  const store = await SqliteExecutionLog.open({ path });
  return {
    store,
    path,
    remove: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A started worker over `store` (stop it in afterAll); `options` adds to or overrides the test defaults. */
export function startWorker(
  store: ExecutionLog,
  flows: readonly FlowSource[],
  options: Partial<Omit<WorkerOptions, 'store' | 'flows'>> = {},
): Worker {
  return new Worker({
    store,
    flows,
    concurrency: 8,
    lease: '5s',
    maxIdle: '50ms',
    durableBackoff: '1s',
    ...options,
  }).start();
}

/** A dashboard served by a plain `http.Server` on a free loopback port. */
export interface Served {
  readonly dashboard: Dashboard;
  readonly server: Server;
  /** `http://127.0.0.1:<port>` + the base path + `/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves a dashboard over `store` (with the test token unless the options say otherwise). */
export async function serve(store: ExecutionLog, options: Partial<DashboardOptions> = {}): Promise<Served> {
  const dashboard = createDashboard({ client: new Client({ store }), token: TOKEN, ...options });
  const server = createServer(dashboard.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    dashboard,
    server,
    url: `http://127.0.0.1:${port}${options.basePath ?? ''}/`,
    close: async () => {
      dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * `inner` as a store without schedules and flow control would look (a third-party store): no
 * `schedules`, `configureQueue` or `getQueueState`, and only the events capability.
 */
export function withoutFeatures(inner: ExecutionLog): ExecutionLog {
  const hidden = new Set<PropertyKey>(['schedules', 'configureQueue', 'getQueueState']);
  return new Proxy(inner, {
    get(target, prop) {
      if (hidden.has(prop)) return undefined;
      if (prop === 'capabilities') return { events: true };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    has: (target, prop) => !hidden.has(prop) && Reflect.has(target, prop),
  });
}

/** Waits until `check` returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `chromium` (or `chromium-browser`) on PATH, as Debian's package installs it. */
export function findChromium(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const path = join(dir, name);
      if (dir !== '' && existsSync(path)) return path;
    }
  }
  return undefined;
}

/**
 * Launches headless Chromium from PATH (never a downloaded browser). Without one: under
 * CI=true this throws, so the suite fails; elsewhere it warns loudly and returns undefined.
 */
export async function launchChromium(): Promise<Browser | undefined> {
  const executablePath = findChromium();
  if (!executablePath) {
    const message = 'Chromium is not on PATH: install it (apt-get install -y chromium; .ci/run does)';
    if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
    console.warn(`\n*** SKIPPING the browser tests: ${message} ***\n`);
    return undefined;
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/**
 * A new page of `base` at `hash`, signed in with the test token, that records Content-Security-Policy
 * violations in `window.__violations` and fails on any dialog (either would mean markup from data
 * got parsed). Close it with `page.context().close()`.
 */
export async function openPage(browser: Browser | undefined, base: Served, hash = '#/'): Promise<Page> {
  if (!browser) throw new Error('no browser');
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // CI runs every package's suites at once on two cores.
  page.setDefaultTimeout(60_000);
  await page.addInitScript(() => {
    (window as unknown as { __violations: string[] }).__violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as unknown as { __violations: string[] }).__violations.push(e.violatedDirective),
    );
  });
  page.on('dialog', (dialog) => {
    throw new Error(`unexpected dialog: ${dialog.message()}`);
  });
  await page.goto(`${base.url}?token=${TOKEN}${hash}`);
  await page.waitForSelector('#live');
  return page;
}

/** A full-page screenshot in test-artifacts/. */
export function shot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
