/**
 * Options of the Redis Streams connector (the stream, its group and its
 * consumer), validated once and frozen. The service's are in
 * `service-options.ts`.
 *
 * @module
 */
import { type Codec, type Duration, toMillis } from '@ergon/core';
import { defaultIdentity, invalid, positiveInteger, text } from './internal/validate.js';
import { createJsonCodec } from './json-codec.js';

const ENTRY_ID = /^(0|\$|\d+(-\d+)?)$/;

/** How the stream is trimmed on every dispatch (`XADD … MAXLEN|MINID ~ …`). */
export type TrimOptions =
  | {
      /** Keep about this many newest entries. */
      readonly maxLength: number;
      /** Trim to exactly the bound (slower) instead of about it. Default false. */
      readonly exact?: boolean | undefined;
    }
  | {
      /** Drop entries older than this (`MINID`, from this process's clock). */
      readonly maxAge: Duration;
      /** Trim to exactly the bound (slower) instead of about it. Default false. */
      readonly exact?: boolean | undefined;
    };

/** Options of {@link RedisStreamsConnector}, besides its service. */
export interface RedisStreamsOptions {
  /** The stream key. On Redis Cluster give it a hash tag (`{orders}`) so its dead-letter stream shares its slot. */
  readonly stream: string;
  /** The consumer group fetches read through. Created (with the stream) on the first fetch. Default `ergon`. */
  readonly group?: string | undefined;
  /**
   * This connector's consumer name in the group: unique per live consumer.
   * Default `<host>-<pid>-<random>`. A name kept across restarts lets a
   * restarted consumer take its own pending entries back at once.
   */
  readonly consumer?: string | undefined;
  /** Name for logs and dependency injection. Default `redis-streams:<stream>`. */
  readonly name?: string | undefined;
  /**
   * Where a new group starts: `'0'` (every entry in the stream, the default)
   * or `'$'` (only entries added after the group was created), or an entry id.
   */
  readonly startId?: string | undefined;
  /** Longest one fetch blocks waiting for new entries before it resolves empty. Default `'2s'`. */
  readonly block?: Duration | undefined;
  /**
   * An entry delivered to a consumer and neither acked nor renewed for this
   * long is taken over by another (`XAUTOCLAIM`): its holder is presumed
   * dead. Holders renew their entries every third of it. Default `'30s'`.
   */
  readonly claimIdle?: Duration | undefined;
  /** After this many deliveries an entry goes to the dead-letter stream instead of an (n + 1)th. Default 5. */
  readonly maxDeliveries?: number | undefined;
  /** Most fetched and unsettled transactions this connector holds; fetches wait for room. Default 256. */
  readonly maxUnacked?: number | undefined;
  /** Where refused entries go, with their original fields and the reason. Default `<stream>:dead-letter`. */
  readonly deadLetterStream?: string | undefined;
  /**
   * The entry field that carries the transaction id (dispatch writes it).
   * Without it, the id is `<stream>:<entry id>`. `false`: always the latter.
   * Default `'id'`.
   */
  readonly idField?: string | false | undefined;
  /** Dead-letter entries without `idField` instead of naming them by entry id. Default false. */
  readonly requireId?: boolean | undefined;
  /** The entry field that carries the encoded payload. Default `'payload'`. */
  readonly payloadField?: string | undefined;
  /**
   * Encodes payloads to the payload field and back; its `maxBytes` is the
   * size limit of an entry's payload. Default: JSON, 1 MiB. Pass core's
   * `defaultCodec` (on both sides) for Dates, Maps, BigInts.
   */
  readonly codec?: Codec | undefined;
  /** Trim the stream on dispatch. Default: never trimmed. Trimming can drop entries not yet consumed. */
  readonly trim?: TrimOptions | undefined;
}

/** {@link RedisStreamsOptions} resolved: defaults applied, milliseconds. */
export interface ResolvedStreamOptions {
  /** {@link RedisStreamsOptions.stream}, with its default applied. */
  readonly stream: string;
  /** {@link RedisStreamsOptions.group}, with its default applied. */
  readonly group: string;
  /** {@link RedisStreamsOptions.consumer}, with its default applied. */
  readonly consumer: string;
  /** {@link RedisStreamsOptions.name}, with its default applied. */
  readonly name: string;
  /** {@link RedisStreamsOptions.startId}, with its default applied. */
  readonly startId: string;
  /** {@link RedisStreamsOptions.block}, in ms, with its default applied. */
  readonly blockMs: number;
  /** {@link RedisStreamsOptions.claimIdle}, in ms, with its default applied. */
  readonly claimIdleMs: number;
  /** {@link RedisStreamsOptions.maxDeliveries}, with its default applied. */
  readonly maxDeliveries: number;
  /** {@link RedisStreamsOptions.maxUnacked}, with its default applied. */
  readonly maxUnacked: number;
  /** {@link RedisStreamsOptions.deadLetterStream}, with its default applied. */
  readonly deadLetterStream: string;
  /** {@link RedisStreamsOptions.idField}, with its default applied. */
  readonly idField: string | false;
  /** {@link RedisStreamsOptions.requireId}, with its default applied. */
  readonly requireId: boolean;
  /** {@link RedisStreamsOptions.payloadField}, with its default applied. */
  readonly payloadField: string;
  /** {@link RedisStreamsOptions.codec}, with its default applied. */
  readonly codec: Codec;
  /** `XADD` arguments before `*`, e.g. `['MAXLEN', '~', '1000']`; MINID is computed per dispatch. */
  readonly trim:
    | Readonly<{
        /** `MAXLEN` (from `maxLength`) or `MINID` (from `maxAge`). */
        kind: 'MAXLEN' | 'MINID';
        /** Exact trimming (`=`) instead of the cheaper approximate one (`~`). */
        exact: boolean;
        /** The most entries (`MAXLEN`), or the age in ms beyond which entries are dropped (`MINID`). */
        value: number;
      }>
    | undefined;
}

/**
 * Validates and resolves stream options.
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`, `INVALID_DURATION`) naming the bad option.
 */
export function resolveStreamOptions(options: RedisStreamsOptions): ResolvedStreamOptions {
  const what = 'redis streams connector';
  if (typeof options !== 'object' || options === null)
    invalid(what, 'options are required, e.g. { stream: "orders" }');
  const stream = text(what, 'stream', options.stream) ?? invalid(what, 'stream is required');
  const group = text(what, 'group', options.group) ?? 'ergon';
  const consumer =
    text(what, 'consumer', options.consumer) ??
    `${defaultIdentity()}-${Math.random().toString(36).slice(2, 8)}`;
  const startId = text(what, 'startId', options.startId) ?? '0';
  if (!ENTRY_ID.test(startId)) invalid(what, `startId must be '0', '$' or an entry id (got ${startId})`);
  const blockMs = toMillis(options.block ?? '2s', 'block');
  if (blockMs < 1) invalid(what, 'block must be at least 1 ms');
  const claimIdleMs = toMillis(options.claimIdle ?? '30s', 'claimIdle');
  if (claimIdleMs < 30) invalid(what, `claimIdle must be at least 30 ms (got ${claimIdleMs} ms)`);
  const idField = options.idField === undefined ? 'id' : options.idField;
  if (idField !== false && (typeof idField !== 'string' || idField === ''))
    invalid(what, 'idField must be a non-empty string or false');
  const payloadField = text(what, 'payloadField', options.payloadField) ?? 'payload';
  if (payloadField === idField) invalid(what, 'payloadField and idField must differ');
  if (options.requireId !== undefined && typeof options.requireId !== 'boolean')
    invalid(what, 'requireId must be a boolean');
  if (options.requireId && idField === false) invalid(what, 'requireId needs an idField');
  const codec = options.codec ?? createJsonCodec();
  if (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function')
    invalid(what, 'codec must have encode and decode (a Codec from @ergon/core)');
  return Object.freeze({
    stream,
    group,
    consumer,
    name: text(what, 'name', options.name) ?? `redis-streams:${stream}`,
    startId,
    blockMs,
    claimIdleMs,
    maxDeliveries: positiveInteger(what, 'maxDeliveries', options.maxDeliveries, 5),
    maxUnacked: positiveInteger(what, 'maxUnacked', options.maxUnacked, 256),
    deadLetterStream: text(what, 'deadLetterStream', options.deadLetterStream) ?? `${stream}:dead-letter`,
    idField,
    requireId: options.requireId ?? false,
    payloadField,
    codec,
    trim: resolveTrim(what, options.trim),
  });
}

function resolveTrim(what: string, trim: TrimOptions | undefined): ResolvedStreamOptions['trim'] {
  if (trim === undefined) return undefined;
  if (typeof trim !== 'object' || trim === null) invalid(what, 'trim must be { maxLength } or { maxAge }');
  const exact = trim.exact ?? false;
  if (typeof exact !== 'boolean') invalid(what, 'trim.exact must be a boolean');
  if ('maxLength' in trim && 'maxAge' in trim) invalid(what, 'trim takes maxLength or maxAge, not both');
  if ('maxLength' in trim) {
    const value = trim.maxLength;
    if (!Number.isSafeInteger(value) || value < 0)
      invalid(what, `trim.maxLength must be a whole number ≥ 0 (got ${String(value)})`);
    return Object.freeze({ kind: 'MAXLEN', exact, value });
  }
  if ('maxAge' in trim)
    return Object.freeze({ kind: 'MINID', exact, value: toMillis(trim.maxAge, 'trim.maxAge') });
  return invalid(what, 'trim must be { maxLength } or { maxAge }');
}
