/**
 * What guards the dashboard: the token (or the user's middleware) on every
 * route, the headers every response carries (a strict Content-Security-Policy
 * among them), and the cross-site checks on actions.
 *
 * @module
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { ResolvedOptions } from './options.js';

/** The header an action must carry with the value `GET api/session` gave the page. */
export const CSRF_HEADER = 'x-ergon-csrf';

/** How the request was let in (set on the context by the authentication middleware). */
export type AuthVia = 'bearer' | 'cookie' | 'middleware' | 'none';

/** The context variables the dashboard's middlewares set. */
export interface DashboardEnv {
  /** Hono context variables. */
  Variables: {
    /** How the current request was let in: a bearer token, the session cookie, your middleware, or no auth. */
    authVia: AuthVia;
  };
}

/**
 * No script but our own bundle, no inline script or style attribute in markup, nothing from
 * another origin, no framing.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
].join('; ');

/** Sets the security headers on every response. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.res.headers.set('Content-Security-Policy', CSP);
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    c.res.headers.set('X-Frame-Options', 'DENY');
    // The token may be in the URL of the first request: never send it onwards.
    c.res.headers.set('Referrer-Policy', 'no-referrer');
    c.res.headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    c.res.headers.set('Cross-Origin-Resource-Policy', 'same-origin');
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  };
}

/** The secrets of one dashboard: the token's digest, the cookie's name and the CSRF value. */
export class Secrets {
  readonly #tokenDigest: Buffer | undefined;
  readonly cookieName: string;
  readonly csrf: string;

  constructor(token: string | undefined, basePath: string) {
    this.#tokenDigest = token === undefined ? undefined : digest(token);
    // One cookie per mount point, so two dashboards on one host do not overwrite each other.
    this.cookieName = `ergon_dashboard_${digest(basePath || '/')
      .toString('hex')
      .slice(0, 8)}`;
    const key = token ?? randomBytes(32).toString('hex');
    this.csrf = createHmac('sha256', key).update('ergon-dashboard-csrf').digest('base64url');
  }

  /** True when `candidate` is the token (constant time). */
  matches(candidate: string | undefined): boolean {
    if (candidate === undefined || this.#tokenDigest === undefined) return false;
    return timingSafeEqual(digest(candidate), this.#tokenDigest);
  }
}

/**
 * Lets a request in by the token (bearer header, cookie, or a one-time `?token=` that
 * becomes the cookie), by the user's middleware, or not at all (`insecureNoAuth`).
 */
export function authentication(options: ResolvedOptions, secrets: Secrets): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    if (options.authenticate) {
      c.set('authVia', 'middleware');
      return options.authenticate(c, next);
    }
    if (options.token === undefined) {
      c.set('authVia', 'none');
      return next();
    }
    const header = c.req.header('authorization');
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (secrets.matches(bearer)) {
      c.set('authVia', 'bearer');
      return next();
    }
    if (secrets.matches(readCookie(c.req.header('cookie'), secrets.cookieName))) {
      c.set('authVia', 'cookie');
      return next();
    }
    const query = c.req.query('token');
    if (c.req.method === 'GET' && secrets.matches(query)) {
      // Keep the token in a cookie and drop it from the address bar (and history).
      const url = new URL(c.req.url);
      url.searchParams.delete('token');
      const cookiePath = `${options.basePath}/`;
      c.header(
        'Set-Cookie',
        `${secrets.cookieName}=${encodeURIComponent(query as string)}; Path=${cookiePath}; HttpOnly; SameSite=Strict` +
          (url.protocol === 'https:' ? '; Secure' : ''),
      );
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    return unauthorized(c);
  };
}

/**
 * Actions: refused in read-only mode (403), and, for a browser session (cookie or the user's
 * middleware), only from our own origin and with the CSRF header. A bearer token cannot be
 * sent by another site, so API clients with one need neither.
 */
export function actionGuard(options: ResolvedOptions, secrets: Secrets): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    if (options.readOnly) return refuse(c, 'READ_ONLY', 'the dashboard is read-only: actions are refused');
    if (c.get('authVia') === 'bearer') return next();
    const site = c.req.header('sec-fetch-site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none')
      return refuse(c, 'CROSS_SITE', `cross-site request refused (sec-fetch-site: ${site})`);
    const origin = c.req.header('origin');
    const own = new URL(c.req.url).origin;
    if (origin !== undefined && origin !== own && !options.allowedOrigins.includes(origin))
      return refuse(c, 'CROSS_SITE', 'request from another origin refused');
    const csrf = c.req.header(CSRF_HEADER);
    if (csrf === undefined || !safeEqual(csrf, secrets.csrf))
      return refuse(c, 'CSRF', `missing or wrong ${CSRF_HEADER} header`);
    return next();
  };
}

function unauthorized(c: Context): Response {
  c.header('WWW-Authenticate', 'Bearer realm="ergon-dashboard"');
  const path = new URL(c.req.url).pathname;
  if (path.includes('/api/') || c.req.method !== 'GET') {
    return c.json({ error: { code: 'UNAUTHORIZED', message: 'a dashboard token is required' } }, 401);
  }
  return c.html(LOGIN_PAGE, 401);
}

function refuse(c: Context, code: string, message: string): Response {
  return c.json({ error: { code, message } }, 403);
}

/** The page without a token: a form that sends it as `?token=` (no script). */
const LOGIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ergon dashboard: token needed</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Ergon dashboard</h1>
<p>This dashboard needs its token. Open the address <code>ergon dashboard</code> printed (it carries the token), or enter it here.</p>
<form method="get" action=""><label>Token <input type="password" name="token" autocomplete="off" required></label>
<button type="submit">Open</button></form></main></body></html>`;

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
