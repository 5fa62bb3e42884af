/**
 * The one place where NATS and JetStream failures (refused connections,
 * timeouts, no responders, JetStream API errors) become Ergon errors with a
 * message saying what to do.
 *
 * @module
 */
import { ErgonError, ErrorCode } from '@ergon/core';

/** Hints by error class name, JetStream API error code, or socket error code. */
const HINTS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'nothing listens there: is nats-server running, and is the url right?',
  ENOTFOUND: 'the host name does not resolve: check the url',
  ConnectionError: 'the server cannot be reached: is nats-server running, and is the url right?',
  AuthorizationError: 'the server refused the credentials: check the user, password or token in the url',
  PermissionViolationError: 'the user may not publish or subscribe there: check its permissions',
  TimeoutError: 'the server did not answer in time: check that it runs and that JetStream is enabled (-js)',
  NoRespondersError:
    'nothing answered: no stream captures the subject, or JetStream is off (start nats-server with -js, or declare the stream)',
  JetStreamNotEnabled: 'JetStream is not enabled: start nats-server with -js (or enable it for the account)',
  ClosedConnectionError: 'the connection is closed: start the connector again',
  DrainingConnectionError: 'the connection is closing: start the connector again',
  '10059': 'the stream does not exist: create it, or let the service declare it (declare: true)',
  '10014': 'the consumer does not exist: create it, or let the service declare it (declare: true)',
  '10058': 'a stream of that name exists with another configuration: delete it or match the options',
  '10065': 'the subjects overlap another stream: give this stream subjects of its own',
  '10077': 'the stream is full (max messages) and refuses new ones: raise its limits or consume faster',
  '10047': 'the server has no room for the stream (JetStream limits): free space or raise the limits',
  '10039': 'JetStream is not enabled for the account: enable it on the server',
  '10071': 'the publish was refused (wrong last sequence or message id expectation)',
};

/** The code that selects a hint: JetStream API code, socket code, or error class name. */
export function natsErrorCode(error: unknown): string | undefined {
  const subject = error as { code?: unknown; name?: unknown; cause?: { code?: unknown } } | null;
  if (typeof subject?.code === 'number' && subject.code >= 10_000) return String(subject.code);
  if (typeof subject?.cause?.code === 'string') return subject.cause.code;
  if (typeof subject?.code === 'string') return subject.code;
  if (typeof subject?.name === 'string' && subject.name !== 'Error') return subject.name;
  return undefined;
}

/** A url with its password (or token) replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    else if (parsed.username && !parsed.password) parsed.username = '***';
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}

/**
 * Turns a NATS failure into a `CONNECTOR_ERROR` naming the action and the
 * server, with a hint by error kind; the original stays as `cause`. Ergon
 * errors pass through unchanged.
 */
export function toConnectorError(error: unknown, action: string, url: string): ErgonError {
  if (error instanceof ErgonError) return error;
  const code = natsErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const hint = code === undefined ? undefined : HINTS[code];
  return new ErgonError(
    ErrorCode.CONNECTOR_ERROR,
    `nats: ${action} on ${redactUrl(url)} failed: ${message}${hint ? ` (${hint})` : ''}`,
    { cause: error, details: { action, ...(code === undefined ? {} : { natsCode: code }) } },
  );
}
