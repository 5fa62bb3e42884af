/**
 * {@link createDashboard}: the dashboard as a Hono app, a fetch handler and a
 * Node request listener, ready to mount in any server.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, isErgonError } from '@ergon/core';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { loadAssets } from './assets.js';
import { OverviewSource } from './data/overview.js';
import { QueueSource } from './data/queues.js';
import { EventHub } from './events.js';
import { type DashboardOptions, resolveOptions } from './options.js';
import { actionRoutes } from './routes/actions.js';
import { readRoutes } from './routes/read.js';
import { authentication, type DashboardEnv, Secrets, securityHeaders } from './security.js';

/** A mounted-anywhere dashboard. Close it when the server stops. */
export interface Dashboard {
  /** The Hono app: `app.route('/ergon', dashboard.app)` in your Hono app. */
  readonly app: Hono<DashboardEnv>;
  /** A web-standard handler: `(request) => response`. */
  readonly fetch: (request: Request) => Promise<Response>;
  /**
   * A Node `http` listener: `createServer(dashboard.listener)`, or call it from your own
   * server for the dashboard's paths (set `basePath` to the prefix they carry).
   */
  readonly listener: (request: IncomingMessage, response: ServerResponse) => Promise<void>;
  /** Ends open event streams and the store subscription (the store stays open). Idempotent. */
  close(): void;
}

/**
 * Builds the dashboard over a {@link DashboardOptions.client}. Routes: the page (`/`),
 * its assets, and the JSON API under `api/`. Every route is behind the token or the
 * `authenticate` middleware.
 *
 * @throws InvalidArgumentError for bad options; Error when the package's page bundle is missing.
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const resolved = resolveOptions(options);
  const assets = loadAssets();
  const secrets = new Secrets(resolved.token, resolved.basePath);
  const events = new EventHub(resolved.client, resolved.pollMs);
  const overview = new OverviewSource(resolved.client);
  const queues = new QueueSource(resolved.client);

  // basePath() gives the app whose routes, middlewares and error handler are the dashboard's.
  const app =
    resolved.basePath === ''
      ? new Hono<DashboardEnv>({ strict: false })
      : new Hono<DashboardEnv>({ strict: false }).basePath(resolved.basePath);
  app.use('*', securityHeaders());
  app.use('*', authentication(resolved, secrets));

  // The page's URLs are relative to its <base>: the mount path as routed (a pattern of ours,
  // never text from the request), so it works at `/ergon` and `/ergon/` alike.
  app.get('/', (c) => c.html(assets.html(c.req.routePath.replace(/\/*$/, '/'))));
  app.get('/assets/:name', (c) => {
    const asset = assets.files.get(c.req.param('name'));
    if (!asset) return c.json({ error: { code: 'NOT_FOUND', message: 'no such asset' } }, 404);
    const immutable = c.req.query('v') === asset.hash;
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': asset.type,
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  });
  readRoutes(app, { options: resolved, secrets, overview, queues, events });
  actionRoutes(app, { options: resolved, secrets, events, queues });
  app.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: 'no such dashboard route' } }, 404));
  app.onError((error, c) => {
    const { status, code, message } = describe(error);
    if (status === 500)
      resolved.logger.error('dashboard request failed', {
        path: c.req.path,
        error: String(error?.stack ?? error),
      });
    return c.json({ error: { code, message } }, status);
  });

  const fetch = async (request: Request) => app.fetch(request);
  return Object.freeze({
    app,
    fetch,
    listener: getRequestListener(fetch, { overrideGlobalObjects: false }),
    close: () => events.close(),
  });
}

/** An error as an HTTP answer: the store's and client's typed errors keep their code and message. */
function describe(error: unknown): { status: ContentfulStatusCode; code: string; message: string } {
  if (isErgonError(error)) {
    const status: ContentfulStatusCode =
      error.code === ErrorCode.FLOW_NOT_FOUND || error.code === ErrorCode.SCHEDULE_NOT_FOUND
        ? 404
        : error.code === ErrorCode.FLOW_FINISHED || error.code === ErrorCode.FLOW_NOT_RETRYABLE
          ? 409
          : error.code.startsWith('INVALID') || error.code.startsWith('CODEC')
            ? 400
            : error.code === ErrorCode.STORE_UNAVAILABLE
              ? 503
              : 500;
    return { status, code: error.code, message: error.message };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error (see the server log)' };
}
