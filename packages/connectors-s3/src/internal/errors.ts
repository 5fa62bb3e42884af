/**
 * The one place where the AWS SDK's failures (S3 error codes, HTTP
 * statuses, socket errors) become Ergon errors with a message saying what
 * to do.
 *
 * @module
 */
import { ErgonError, ErrorCode, isErgonError } from '@ergon/core';

/** Hints by S3 error code, HTTP status or socket error code. */
const HINTS: Readonly<Record<string, string>> = {
  NoSuchBucket: 'the bucket does not exist: create it, or let the service create it (createBucket: true)',
  AccessDenied:
    'the credentials lack a permission on the bucket or prefix (s3:GetObject, PutObject, DeleteObject, ListBucket)',
  InvalidAccessKeyId: 'the access key is unknown to the server: check the credentials',
  SignatureDoesNotMatch: 'the secret key is wrong, or the clock is far off: check the credentials',
  RequestTimeTooSkewed: "this machine's clock is far from the server's: synchronise it",
  SlowDown: 'the server throttles requests: lower the concurrency; the call can be retried',
  ServiceUnavailable: 'the server is overloaded or restarting; the call can be retried',
  InternalError: 'the server reported an internal error; the call can be retried',
  InvalidBucketName: 'the bucket name is not valid for S3 (3–63 lower-case letters, digits, dots, hyphens)',
  EntityTooLarge: 'the object is over the largest size the server accepts in one PUT',
  ECONNREFUSED: 'nothing listens there: is the S3 endpoint running, and is its url right?',
  ENOTFOUND: 'the host name does not resolve: check the endpoint',
  ECONNRESET: 'the connection was reset; the call can be retried',
  ETIMEDOUT: 'the server did not answer in time: check the network and the endpoint',
};

/** The S3 error code (`NoSuchKey`, `PreconditionFailed`) or socket code of an SDK failure. */
export function s3ErrorCode(error: unknown): string | undefined {
  const e = error as { name?: unknown; Code?: unknown; code?: unknown } | null;
  if (typeof e?.Code === 'string') return e.Code;
  if (typeof e?.code === 'string') return e.code;
  return typeof e?.name === 'string' && e.name !== 'Error' ? e.name : undefined;
}

/** The HTTP status of an SDK failure, when the server answered. */
export function httpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** True for "no such object" answers (404 on a key). */
export function isNotFound(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return (
    code === 'NoSuchKey' || code === 'NotFound' || (httpStatus(error) === 404 && code !== 'NoSuchBucket')
  );
}

/** True when a conditional request's condition failed (412, or 409 for a concurrent conditional write). */
export function isPreconditionFailed(error: unknown): boolean {
  const status = httpStatus(error);
  return (
    status === 412 ||
    s3ErrorCode(error) === 'PreconditionFailed' ||
    s3ErrorCode(error) === 'ConditionalRequestConflict'
  );
}

/** Where an error happened, for its message. */
export interface ErrorContext {
  /** What was being done: `read object`, `list`. */
  readonly action: string;
  /** The bucket. */
  readonly bucket: string;
  /** The key or prefix, when there is one. */
  readonly key?: string | undefined;
}

/**
 * Turns an SDK failure into a `CONNECTOR_ERROR` naming the action, bucket
 * and key, with a hint by S3 error code; the original stays as `cause`.
 * Ergon errors pass through unchanged.
 */
export function toConnectorError(error: unknown, context: ErrorContext): ErgonError {
  if (isErgonError(error)) return error;
  const code = s3ErrorCode(error);
  const status = httpStatus(error);
  const message = error instanceof Error ? error.message || code || 'unknown error' : String(error);
  const hint = code === undefined ? undefined : HINTS[code];
  const where = `s3://${context.bucket}/${context.key ?? ''}`;
  return new ErgonError(
    ErrorCode.CONNECTOR_ERROR,
    `s3: could not ${context.action} ${where}: ${message}${code && !message.includes(code) ? ` (${code})` : ''}${hint ? ` (${hint})` : ''}`,
    {
      cause: error,
      details: {
        connector: 's3',
        bucket: context.bucket,
        ...(context.key === undefined ? {} : { key: context.key }),
        ...(code === undefined ? {} : { s3Code: code }),
        ...(status === undefined ? {} : { httpStatus: status }),
      },
    },
  );
}
