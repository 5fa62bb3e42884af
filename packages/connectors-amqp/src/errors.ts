/**
 * The one place where amqplib's failures (socket errors, AMQP reply codes,
 * closed channels) become Ergon errors with a message saying what to do.
 *
 * @module
 */
import { ErgonError, ErrorCode } from '@ergon/core';

/** Hints by AMQP reply code or socket error code. */
const HINTS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'nothing listens there: is RabbitMQ running, and is the url right?',
  ENOTFOUND: 'the host name does not resolve: check the url',
  ETIMEDOUT: 'the broker did not answer in time: check the network and the url',
  EHOSTUNREACH: 'the host is unreachable: check the network and the url',
  ECONNRESET: 'the connection was reset; the service reconnects by itself',
  EPIPE: 'the connection was closed under a write; the service reconnects by itself',
  '403': 'access refused: check the user name, the password and the permissions on the vhost',
  '404':
    'the exchange or queue does not exist: declare it, or let the service declare its topology (declare: true)',
  '406':
    'the queue or exchange exists with other settings (durable, arguments): delete it or match the options',
  '320': 'the broker closed the connection (an operator, or a shutdown); the service reconnects by itself',
  '530': 'the vhost is not allowed for this user, or does not exist: check the url',
  '541': 'the broker reported an internal error: see the RabbitMQ log',
};

/** The AMQP reply code or socket error code of an amqplib failure, as a string. */
export function amqpErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number' || typeof code === 'string') return String(code);
  const message = error instanceof Error ? error.message : '';
  const reply = /\b(\d{3}) \((?:ACCESS-REFUSED|NOT-FOUND|PRECONDITION-FAILED|NOT-ALLOWED)/.exec(message);
  return reply?.[1];
}

/** A url with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}

/**
 * Turns an amqplib failure into a `CONNECTOR_ERROR` naming the action and
 * the broker, with a hint by reply code; the original stays as `cause`.
 * Ergon errors pass through unchanged.
 */
export function toConnectorError(error: unknown, action: string, url: string): ErgonError {
  if (error instanceof ErgonError) return error;
  const code = amqpErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const hint = code === undefined ? undefined : HINTS[code];
  const closed = /channel (?:is )?closed|connection (?:is )?closed|channel ended/i.test(message);
  const advice = hint ?? (closed ? 'the channel closed under the operation; retry it' : undefined);
  return new ErgonError(
    ErrorCode.CONNECTOR_ERROR,
    `amqp: ${action} on ${redactUrl(url)} failed: ${message}${advice ? ` (${advice})` : ''}`,
    { cause: error, details: { action, ...(code === undefined ? {} : { amqpCode: code }) } },
  );
}
