/**
 * Options of {@link createDashboard}, validated once and frozen.
 *
 * @module
 */
import { createConsoleLogger, InvalidArgumentError, type Logger } from '@ergon/core';
import type { Client } from '@ergon/executor';
import type { MiddlewareHandler } from 'hono';

/** A durable-bridge task whose flows the Pipelines page groups (see {@link DashboardOptions.pipelines}). */
export interface PipelineInfo {
  /** The task's name. */
  readonly task: string;
  /** The flow type its durable bridge runs (`durable(flow).flowType`). */
  readonly flowType: string;
  /** Where its transactions come from (a connector's description), shown as is. */
  readonly source?: string;
}

/** What {@link DashboardOptions.retry} returns: the id of the new flow. */
export interface RetriedFlow {
  /** The new flow's id. */
  readonly id: string;
}

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** The client the dashboard reads and acts through; its store's events drive live updates. */
  readonly client: Client;
  /**
   * The secret that guards every route: sent as `Authorization: Bearer <token>`, or once as
   * `?token=` (the page then keeps it in an HttpOnly, SameSite=Strict cookie). At least 16
   * characters. Give `token` or `authenticate`; with neither, {@link createDashboard} throws,
   * unless `insecureNoAuth` says the server in front of it authenticates.
   */
  readonly token?: string;
  /**
   * Your own authentication as a Hono middleware: call `next()` to let the request through,
   * return a response (401, a redirect to your login) otherwise. Runs before every route.
   */
  readonly authenticate?: MiddlewareHandler;
  /** Serve without any authentication (only behind a proxy that authenticates). Default false. */
  readonly insecureNoAuth?: boolean;
  /** Refuse every action (signal, cancel, retry) with 403. Default false. */
  readonly readOnly?: boolean;
  /**
   * The path the dashboard is mounted under in a plain Node server (`'/ergon'`), so its
   * routes match the full path. Leave empty when mounting the Hono app with `app.route()`,
   * which strips the prefix itself. Default `''`.
   */
  readonly basePath?: string;
  /**
   * A link to a flow's trace: `{traceId}` is replaced by the W3C trace id and `{flowId}` by
   * the flow id (URL-encoded), e.g. `http://localhost:16686/trace/{traceId}` (Jaeger) or
   * `http://localhost:3000/explore?left=…{traceId}…` (Tempo). No link without it.
   */
  readonly traceUrl?: string;
  /** Durable-bridge tasks for the Pipelines page (the store does not record which task started a flow). */
  readonly pipelines?: readonly PipelineInfo[];
  /**
   * Runs a failed or cancelled flow again; resolves with the new flow's id. Default: a new
   * flow `<id>.retry-<n>` with the same type, queue, priority and input (as `ergon retry` does).
   */
  readonly retry?: (flowId: string) => Promise<RetriedFlow>;
  /**
   * Origins (`https://ops.example.com`) besides the request's own from which actions are
   * accepted, for a dashboard behind a proxy that rewrites `Host`. Default none.
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * How often, in ms, pages refresh when the store has no events (no `subscribe`), and how
   * often an open running flow's page re-reads it (steps make no store event). Default 2000.
   */
  readonly pollMs?: number;
  /** Where unexpected errors (HTTP 500) are reported. Default: the console. */
  readonly logger?: Logger;
}

/** Options after validation (internal). */
export interface ResolvedOptions {
  readonly client: Client;
  readonly token: string | undefined;
  readonly authenticate: MiddlewareHandler | undefined;
  readonly insecureNoAuth: boolean;
  readonly readOnly: boolean;
  readonly basePath: string;
  readonly traceUrl: string | undefined;
  readonly pipelines: readonly PipelineInfo[];
  readonly retry: ((flowId: string) => Promise<RetriedFlow>) | undefined;
  readonly allowedOrigins: readonly string[];
  readonly pollMs: number;
  readonly logger: Logger;
}

/** Validates the options. @throws InvalidArgumentError naming the bad option. */
export function resolveOptions(options: DashboardOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('createDashboard needs options: { client, token }');
  const { client, token, authenticate } = options;
  if (typeof client?.get !== 'function' || typeof client?.list !== 'function')
    throw new InvalidArgumentError('createDashboard needs a client: new Client({ store })');
  if (token !== undefined && (typeof token !== 'string' || token.length < 16 || /\s/.test(token)))
    throw new InvalidArgumentError('dashboard token must be at least 16 characters without spaces');
  if (authenticate !== undefined && typeof authenticate !== 'function')
    throw new InvalidArgumentError('authenticate must be a Hono middleware function');
  if (token === undefined && authenticate === undefined && options.insecureNoAuth !== true) {
    throw new InvalidArgumentError(
      'the dashboard needs a token or an authenticate middleware (or insecureNoAuth: true behind an authenticating proxy)',
    );
  }
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  if (basePath !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(basePath))
    throw new InvalidArgumentError(
      `basePath must look like /ergon or /ops/ergon (got ${JSON.stringify(basePath)})`,
    );
  const traceUrl = options.traceUrl;
  if (traceUrl !== undefined && !/^https?:\/\//i.test(traceUrl))
    throw new InvalidArgumentError('traceUrl must be an http(s) URL template containing {traceId}');
  const pollMs = options.pollMs ?? 2000;
  if (!Number.isInteger(pollMs) || pollMs < 100)
    throw new InvalidArgumentError(`pollMs must be a whole number of ms ≥ 100 (got ${pollMs})`);
  const pipelines = (options.pipelines ?? []).map((p) => {
    if (typeof p?.task !== 'string' || typeof p.flowType !== 'string')
      throw new InvalidArgumentError('each pipeline needs a task name and a flowType');
    return Object.freeze({ ...p });
  });
  const allowedOrigins = (options.allowedOrigins ?? []).map((o) => {
    try {
      return new URL(o).origin;
    } catch {
      throw new InvalidArgumentError(`allowedOrigins: ${JSON.stringify(o)} is not an origin`);
    }
  });
  return Object.freeze({
    client,
    token,
    authenticate,
    insecureNoAuth: options.insecureNoAuth === true,
    readOnly: options.readOnly === true,
    basePath,
    traceUrl,
    pipelines: Object.freeze(pipelines),
    retry: options.retry,
    allowedOrigins: Object.freeze(allowedOrigins),
    pollMs,
    logger: options.logger ?? createConsoleLogger(),
  });
}
