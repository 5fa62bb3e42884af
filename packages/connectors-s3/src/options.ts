/**
 * Options of the S3 service and connector, validated once and frozen.
 *
 * @module
 */
import {
  createConsoleLogger,
  type Duration,
  ErrorCode,
  InvalidArgumentError,
  type Logger,
  toMillis,
} from '@ergon/core';
import type { S3Client } from '@aws-sdk/client-s3';

/** How claims are made safe against two consumers taking one object. */
export type ClaimMode =
  /** Find out on start: conditional writes when the server honours them, otherwise read-after-write. */
  | 'auto'
  /** `If-None-Match: *` / `If-Match` on the lease marker (AWS S3 since 2024, MinIO, Ceph RGW, R2); refuse to start without. */
  | 'conditional'
  /** Write the marker, wait `claimSettle`, read the markers back: best effort, for servers without conditional writes. */
  | 'read-after-write';

/** Static credentials. */
export interface S3Credentials {
  /** The access key id. */
  readonly accessKeyId: string;
  /** The secret access key. */
  readonly secretAccessKey: string;
  /** A session token, for temporary credentials. */
  readonly sessionToken?: string | undefined;
}

/** Options of {@link S3Service}. */
export interface S3ServiceOptions {
  /** The bucket every connector of this service works in. */
  readonly bucket: string;
  /** An `S3Client` of your own (its region, credentials, retries apply). The service never destroys it. */
  readonly client?: S3Client | undefined;
  /** An S3-compatible endpoint (`http://127.0.0.1:9000`); without it, AWS S3. Ignored with `client`. */
  readonly endpoint?: string | undefined;
  /** Default `us-east-1`. Ignored with `client`. */
  readonly region?: string | undefined;
  /** Default: the SDK's chain (environment, profile, instance role). Ignored with `client`. */
  readonly credentials?: S3Credentials | undefined;
  /** Path-style URLs (`endpoint/bucket/key`). Default true with an `endpoint`, false without. Ignored with `client`. */
  readonly forcePathStyle?: boolean | undefined;
  /** Create the bucket on start when it is missing. Default false. */
  readonly createBucket?: boolean | undefined;
  /** How claims are made safe. Default `'auto'`. */
  readonly claims?: ClaimMode | undefined;
  /** Name for logs and dependency injection. Default `s3:<bucket>`. */
  readonly name?: string | undefined;
  /** Where trouble is reported. Default: JSON lines on stderr, warn and above. */
  readonly logger?: Logger | undefined;
}

/** {@link S3ServiceOptions} resolved. */
export interface ResolvedServiceOptions {
  /** {@link S3ServiceOptions.bucket}, with its default applied. */
  readonly bucket: string;
  /** {@link S3ServiceOptions.client}, with its default applied. */
  readonly client: S3Client | undefined;
  /** {@link S3ServiceOptions.endpoint}, with its default applied. */
  readonly endpoint: string | undefined;
  /** {@link S3ServiceOptions.region}, with its default applied. */
  readonly region: string;
  /** {@link S3ServiceOptions.credentials}, with its default applied. */
  readonly credentials: S3Credentials | undefined;
  /** {@link S3ServiceOptions.forcePathStyle}, with its default applied. */
  readonly forcePathStyle: boolean;
  /** {@link S3ServiceOptions.createBucket}, with its default applied. */
  readonly createBucket: boolean;
  /** {@link S3ServiceOptions.claims}, with its default applied. */
  readonly claims: ClaimMode;
  /** {@link S3ServiceOptions.name}, with its default applied. */
  readonly name: string;
  /** {@link S3ServiceOptions.logger}, with its default applied. */
  readonly logger: Logger;
}

/** How an object's bytes become payloads, and payloads objects. */
export type ObjectFormat =
  /** One JSON value per object: one transaction. */
  | 'json'
  /** One JSON value per non-empty line: one transaction per line, id `<key>#<line number>`. */
  | 'json-lines'
  /** The bytes as they are (a `Uint8Array` payload): one transaction. */
  | 'bytes';

/** What an ack does to a finished object. */
export type AckAction =
  /** Copy it under `donePrefix`, then delete it (an audit trail). */
  | 'move'
  /** Delete it. */
  | 'delete';

/** Options of {@link S3Connector}, besides its service. */
export interface S3ConnectorOptions {
  /**
   * The prefix whose objects are transactions, ending in `/` (`orders/incoming/`).
   * Every object below it counts, nested keys too.
   */
  readonly prefix: string;
  /** Where acked objects go (`ack: 'move'`). Default `<prefix without the slash>.done/`. */
  readonly donePrefix?: string | undefined;
  /** Where refused objects go, with the reason. Default `<prefix without the slash>.dead-letter/`. */
  readonly deadLetterPrefix?: string | undefined;
  /** Where the lease markers of claimed objects live. Default `<prefix without the slash>.leases/`. */
  readonly leasePrefix?: string | undefined;
  /** How an object's bytes become payloads. Default `'json'`. */
  readonly format?: ObjectFormat | undefined;
  /** What an ack does. Default `'move'`. */
  readonly ack?: AckAction | undefined;
  /**
   * How long a claim holds without renewal: the holder rewrites a marker before
   * it is a third of this old, so only a dead (or stalled) holder's objects
   * come back. Default `'30s'`.
   */
  readonly lease?: Duration | undefined;
  /** Most fetched, unsettled transactions this connector holds. Default 256. */
  readonly maxInFlight?: number | undefined;
  /** Longest a fetch looks for objects before it resolves empty. Default `'1s'`. */
  readonly fetchWait?: Duration | undefined;
  /** Pause between two listings of an empty prefix while a fetch waits. Default `'250ms'`. */
  readonly pollInterval?: Duration | undefined;
  /** Wait between writing lease markers and reading them back (`read-after-write` claims). Default `'50ms'`. */
  readonly claimSettle?: Duration | undefined;
  /** Requests in flight at once for one fetch or settlement batch. Default 16. */
  readonly concurrency?: number | undefined;
  /** Largest object read, in bytes: larger ones are dead-lettered unread, larger dispatches refused. Default 1 MiB. */
  readonly maxObjectBytes?: number | undefined;
  /** Name for logs and dependency injection. Default `s3:<bucket>/<prefix>`. */
  readonly name?: string | undefined;
}

/** {@link S3ConnectorOptions} resolved. */
export interface ResolvedConnectorOptions {
  /** {@link S3ConnectorOptions.prefix}, with its default applied. */
  readonly prefix: string;
  /** {@link S3ConnectorOptions.donePrefix}, with its default applied. */
  readonly donePrefix: string;
  /** {@link S3ConnectorOptions.deadLetterPrefix}, with its default applied. */
  readonly deadLetterPrefix: string;
  /** {@link S3ConnectorOptions.leasePrefix}, with its default applied. */
  readonly leasePrefix: string;
  /** {@link S3ConnectorOptions.format}, with its default applied. */
  readonly format: ObjectFormat;
  /** {@link S3ConnectorOptions.ack}, with its default applied. */
  readonly ack: AckAction;
  /** {@link S3ConnectorOptions.lease}, in ms, with its default applied. */
  readonly leaseMs: number;
  /** {@link S3ConnectorOptions.maxInFlight}, with its default applied. */
  readonly maxInFlight: number;
  /** {@link S3ConnectorOptions.fetchWait}, in ms, with its default applied. */
  readonly fetchWaitMs: number;
  /** {@link S3ConnectorOptions.pollInterval}, in ms, with its default applied. */
  readonly pollIntervalMs: number;
  /** {@link S3ConnectorOptions.claimSettle}, in ms, with its default applied. */
  readonly claimSettleMs: number;
  /** {@link S3ConnectorOptions.concurrency}, with its default applied. */
  readonly concurrency: number;
  /** {@link S3ConnectorOptions.maxObjectBytes}, with its default applied. */
  readonly maxObjectBytes: number;
  /** {@link S3ConnectorOptions.name}, with its default applied. */
  readonly name: string;
}

/** Default size limit of an object: 1 MiB. */
export const DEFAULT_MAX_OBJECT_BYTES = 1024 * 1024;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function invalid(what: string, message: string): never {
  throw new InvalidArgumentError(`${what}: ${message}`, { code: ErrorCode.INVALID_ARGUMENT });
}

function text(what: string, option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > 1024)
    invalid(what, `${option} must be a non-empty string of at most 1024 characters`);
  return value as string;
}

function positiveInteger(what: string, option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    invalid(what, `${option} must be a whole number ≥ 1 (got ${String(value)})`);
  return value as number;
}

function oneOf<T extends string>(
  what: string,
  option: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T))
    invalid(what, `${option} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  return value as T;
}

/**
 * Validates and resolves service options.
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`) naming the bad option.
 */
export function resolveServiceOptions(options: S3ServiceOptions): ResolvedServiceOptions {
  const what = 's3 service';
  if (typeof options !== 'object' || options === null)
    invalid(what, 'options are required, e.g. { bucket: "orders" }');
  const bucket = text(what, 'bucket', options.bucket) ?? invalid(what, 'bucket is required');
  if (!BUCKET.test(bucket)) invalid(what, `bucket must be 3–63 characters from a–z 0–9 . - (got ${bucket})`);
  if (options.client !== undefined && typeof (options.client as S3Client)?.send !== 'function')
    invalid(what, '`client` must be an S3Client');
  const endpoint = text(what, 'endpoint', options.endpoint);
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint))
    invalid(what, 'endpoint must be an http:// or https:// url');
  const credentials = options.credentials;
  if (
    credentials !== undefined &&
    (typeof credentials?.accessKeyId !== 'string' || typeof credentials.secretAccessKey !== 'string')
  )
    invalid(what, 'credentials must be { accessKeyId, secretAccessKey }');
  if (options.forcePathStyle !== undefined && typeof options.forcePathStyle !== 'boolean')
    invalid(what, 'forcePathStyle must be true or false');
  if (options.createBucket !== undefined && typeof options.createBucket !== 'boolean')
    invalid(what, 'createBucket must be true or false');
  return Object.freeze({
    bucket,
    client: options.client,
    endpoint,
    region: text(what, 'region', options.region) ?? 'us-east-1',
    credentials: credentials === undefined ? undefined : Object.freeze({ ...credentials }),
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    createBucket: options.createBucket ?? false,
    claims: oneOf(
      what,
      'claims',
      options.claims,
      ['auto', 'conditional', 'read-after-write'] as const,
      'auto',
    ),
    name: text(what, 'name', options.name) ?? `s3:${bucket}`,
    logger: options.logger ?? createConsoleLogger({ component: 's3' }, 'warn'),
  });
}

function prefixOption(what: string, option: string, value: unknown): string | undefined {
  const prefix = text(what, option, value);
  if (prefix !== undefined && !prefix.endsWith('/'))
    invalid(what, `${option} must end with / (got ${prefix})`);
  return prefix;
}

/**
 * Validates and resolves connector options. The state prefixes must not lie
 * under `prefix` (their objects would be taken for transactions).
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`, `INVALID_DURATION`) naming the bad option.
 */
export function resolveConnectorOptions(
  options: S3ConnectorOptions,
  bucket: string,
): ResolvedConnectorOptions {
  const what = 's3 connector';
  if (typeof options !== 'object' || options === null)
    invalid(what, 'options are required, e.g. { prefix: "orders/" }');
  const prefix =
    prefixOption(what, 'prefix', options.prefix) ?? invalid(what, 'prefix is required, e.g. "orders/"');
  const base = prefix.slice(0, -1);
  const donePrefix = prefixOption(what, 'donePrefix', options.donePrefix) ?? `${base}.done/`;
  const deadLetterPrefix =
    prefixOption(what, 'deadLetterPrefix', options.deadLetterPrefix) ?? `${base}.dead-letter/`;
  const leasePrefix = prefixOption(what, 'leasePrefix', options.leasePrefix) ?? `${base}.leases/`;
  const state = { donePrefix, deadLetterPrefix, leasePrefix };
  for (const [option, value] of Object.entries(state)) {
    if (value.startsWith(prefix) || prefix.startsWith(value))
      invalid(what, `${option} (${value}) must not lie under prefix (${prefix}) nor contain it`);
  }
  if (new Set(Object.values(state)).size !== 3)
    invalid(what, 'donePrefix, deadLetterPrefix and leasePrefix must differ');
  const leaseMs = toMillis(options.lease ?? '30s', 'lease');
  if (leaseMs < 500) invalid(what, `lease must be at least 500 ms (got ${leaseMs} ms)`);
  return Object.freeze({
    prefix,
    ...state,
    format: oneOf(what, 'format', options.format, ['json', 'json-lines', 'bytes'] as const, 'json'),
    ack: oneOf(what, 'ack', options.ack, ['move', 'delete'] as const, 'move'),
    leaseMs,
    maxInFlight: positiveInteger(what, 'maxInFlight', options.maxInFlight, 256),
    fetchWaitMs: toMillis(options.fetchWait ?? '1s', 'fetchWait'),
    pollIntervalMs: Math.max(10, toMillis(options.pollInterval ?? '250ms', 'pollInterval')),
    claimSettleMs: toMillis(options.claimSettle ?? '50ms', 'claimSettle'),
    concurrency: positiveInteger(what, 'concurrency', options.concurrency, 16),
    maxObjectBytes: positiveInteger(what, 'maxObjectBytes', options.maxObjectBytes, DEFAULT_MAX_OBJECT_BYTES),
    name: text(what, 'name', options.name) ?? `s3:${bucket}/${prefix}`,
  });
}
