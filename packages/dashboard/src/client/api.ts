/**
 * The page's calls to the dashboard API (relative URLs: the page is served at
 * the dashboard's base path). Actions carry the CSRF header.
 */
import type { ApiError, SessionInfo } from '../api-types.js';

let session: SessionInfo | undefined;

/** An API error with its code. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the session (once): CSRF value, read-only mode, live updates. */
export async function loadSession(): Promise<SessionInfo> {
  session ??= await get<SessionInfo>('api/session');
  return session;
}

/** GET `path` with `query`, as JSON. */
export async function get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
  const qs = params.toString();
  return answer<T>(await fetch(qs ? `${path}?${qs}` : path, { headers: { accept: 'application/json' } }));
}

/** POST an action with a JSON body. */
export async function act<T>(
  action: 'signal' | 'cancel' | 'retry' | 'schedule-pause' | 'schedule-resume' | 'schedule-trigger',
  body: Record<string, unknown>,
): Promise<T> {
  const { csrf } = await loadSession();
  const response = await fetch(`api/actions/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-ergon-csrf': csrf },
    body: JSON.stringify(body),
  });
  return answer<T>(response);
}

async function answer<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => undefined)) as T | ApiError | undefined;
  if (!response.ok) {
    const error = (body as ApiError | undefined)?.error;
    if (response.status === 401) location.reload();
    throw new ApiFailure(response.status, error?.code ?? 'HTTP', error?.message ?? `HTTP ${response.status}`);
  }
  return body as T;
}
