/**
 * The one place where mqtt.js failures (socket errors, CONNACK and PUBACK
 * reason codes, timeouts) become Ergon errors with a message saying what to do.
 *
 * @module
 */
import { ErgonError, ErrorCode } from '@ergon/core';

/** Hints by MQTT 5 reason code or socket error code. */
const HINTS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'nothing listens there: is the broker (mosquitto) running, and is the url right?',
  ENOTFOUND: 'the host name does not resolve: check the url',
  ECONNRESET: 'the connection was reset; the service reconnects by itself',
  '128': 'the broker refused it without saying why: see its log',
  '133': 'the client id is not accepted: use one of letters and digits the broker allows',
  '134': 'bad user name or password: check the credentials in the url',
  '135': 'not authorized: the broker (its ACL) does not let this client use the topic',
  '142':
    'another client connected with the same client id and took the session over: give every consumer its own',
  '144': 'the topic name is not valid for the broker',
  '149': 'the message is larger than the broker accepts (message_size_limit): send a reference instead',
  '151': 'a quota was exceeded: slow down, or raise the broker limits',
  '153': 'the payload format is invalid for the broker',
};

/** The reason code (as a string) or socket error code of an mqtt.js failure. */
export function mqttErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number' || typeof code === 'string') return String(code);
  return undefined;
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
 * Turns an mqtt.js failure into a `CONNECTOR_ERROR` naming the action and
 * the broker, with a hint by reason code; the original stays as `cause`.
 * Ergon errors pass through unchanged.
 */
export function toConnectorError(error: unknown, action: string, url: string): ErgonError {
  if (error instanceof ErgonError) return error;
  const code = mqttErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const hint = code === undefined ? undefined : HINTS[code];
  return new ErgonError(
    ErrorCode.CONNECTOR_ERROR,
    `mqtt: ${action} on ${redactUrl(url)} failed: ${message}${hint ? ` (${hint})` : ''}`,
    { cause: error, details: { action, ...(code === undefined ? {} : { mqttCode: code }) } },
  );
}
