/**
 * The one place where Redis and ioredis failures become core errors: every
 * failure to talk to the stream is `CONNECTOR_ERROR`, with a message that
 * says what to do and the Redis reply kept as `cause`.
 *
 * @module
 */
import { ErgonError, ErrorCode, isErgonError } from '@ergon/core';

/** What the failing call was about. */
export interface ErrorContext {
  /** Verb for messages: `read from`, `ack an entry of`, ... */
  readonly action: string;
  /** The stream key. */
  readonly stream?: string | undefined;
  /** The Redis URL (credentials removed), for connection failures. */
  readonly url?: string | undefined;
}

/** Connection-level failures of ioredis: the command never got a reply. */
const CONNECTION =
  /Connection is closed|connect ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|Command timed out|MaxRetriesPerRequestError|Reached the max retries|Stream isn't writeable/i;

/** Hints for replies a person can act on, by their first word. */
const HINTS: Readonly<Record<string, string>> = {
  WRONGTYPE: 'the key holds a value that is not a stream: use another stream name or delete the key',
  NOGROUP:
    'the consumer group or the stream is gone (deleted meanwhile); it is created again on the next fetch',
  OOM: 'Redis is out of memory (maxmemory reached with noeviction): trim the stream or raise maxmemory',
  NOPERM:
    'the Redis user lacks a permission this connector needs (stream commands, EVALSHA, CLIENT ID/UNBLOCK)',
  NOAUTH: 'Redis requires a password: put it in the URL (redis://:password@host:6379)',
  READONLY: 'the connection reached a replica: point the URL at the primary',
  LOADING: 'Redis is loading its data set after a restart: the call is retried once it is ready',
};

/** Maps anything a Redis call threw to an Ergon error. Ergon errors pass through unchanged. */
export function toConnectorError(error: unknown, context: ErrorContext): Error {
  if (isErgonError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const where = context.stream === undefined ? '' : ` stream ${context.stream}`;
  const details = {
    connector: 'redis-streams',
    ...(context.stream === undefined ? {} : { stream: context.stream }),
  };
  if (error instanceof Error && error.name === 'ReplyError') {
    const word = message.split(' ', 1)[0] ?? '';
    const hint = HINTS[word];
    return new ErgonError(
      ErrorCode.CONNECTOR_ERROR,
      `redis refused to ${context.action}${where}: ${message}${hint ? ` (${hint})` : ''}`,
      { cause: error, details: { ...details, reply: word } },
    );
  }
  const reach = CONNECTION.test(message)
    ? `; check that Redis${context.url ? ` at ${context.url}` : ''} is running and reachable (the connector reconnects on its own)`
    : '';
  return new ErgonError(
    ErrorCode.CONNECTOR_ERROR,
    `could not ${context.action}${where}: ${message}${reach}`,
    { cause: error, details },
  );
}

/** The Redis reply's first word (`NOGROUP`, `BUSYGROUP`), or undefined for other errors. */
export function replyCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.name !== 'ReplyError') return undefined;
  return error.message.split(' ', 1)[0];
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'the configured URL';
  }
}
