/**
 * The payload codec: every durable value (flow input, step result, signal
 * payload, transaction payload) goes through it. Built on `devalue`, which
 * round-trips Date, BigInt, Map, Set, undefined, -0, NaN, RegExp, URL and typed
 * arrays; Ergon adds Error (with `cause`, `code` and the original class where
 * it is registered), refuses what cannot be rebuilt, and enforces a size limit.
 *
 * @module
 */
import { parse, stringify } from 'devalue';
import { ErgonError, ErrorCode, InvalidArgumentError, SerializationError } from './errors.js';
import { NonRetryableError } from './retry.js';

/** A reversible transform applied to encoded text, e.g. encryption at rest. */
export interface CodecTransform {
  /** Applied after encoding, before the text is stored. */
  encode(text: string): string;
  /** Applied to stored text before decoding. Must invert {@link CodecTransform.encode}. */
  decode(text: string): string;
}

/** Options for {@link createCodec}. */
export interface CodecOptions {
  /** Largest encoded value accepted, in UTF-8 bytes. Default 2 MiB. */
  maxBytes?: number;
  /** Optional transform (encryption, compression) around the stored text. */
  transform?: CodecTransform;
}

/** Encodes values to text and back. */
export interface Codec {
  /** The size limit in bytes. */
  readonly maxBytes: number;
  /**
   * Encodes `value`. `what` names the value in error messages (`'step result of charge#0'`).
   * @throws SerializationError with a `CODEC_*` code for values that cannot be stored.
   */
  encode(value: unknown, what?: string): string;
  /**
   * Decodes text written by {@link Codec.encode}.
   * @throws SerializationError with code `CODEC_MALFORMED` for anything else.
   */
  decode<T = unknown>(text: string, what?: string): T;
}

/** The default size limit: 2 MiB. */
export const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;

type ErrorClass = abstract new (...args: never[]) => Error;

const errorClasses = new Map<string, ErrorClass>();

/**
 * Registers an error class so that errors of that class decode as instances of
 * it (same class, same `instanceof`) rather than as plain `Error`s. Classes are
 * matched by `name`; Ergon's own error classes are registered already.
 */
export function registerErrorClass(...classes: ErrorClass[]): void {
  for (const cls of classes) errorClasses.set(cls.name, cls);
}

registerErrorClass(
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  ErgonError,
  InvalidArgumentError,
  SerializationError,
  NonRetryableError,
);

/** Creates a codec. The returned object is frozen and safe to share. */
export function createCodec(options: CodecOptions = {}): Codec {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) {
    throw new InvalidArgumentError(`codec maxBytes must be a positive integer (got ${maxBytes})`);
  }
  const transform = options.transform;
  return Object.freeze({
    maxBytes,
    encode(value: unknown, what = 'value'): string {
      checkEncodable(value, '$', new Set(), what);
      let text: string;
      try {
        text = stringify(value, reducers);
      } catch (error) {
        throw new SerializationError(
          ErrorCode.CODEC_UNSUPPORTED_TYPE,
          `${what} cannot be encoded: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if (transform) text = transform.encode(text);
      const bytes = text.length * 3 <= maxBytes ? text.length : Buffer.byteLength(text, 'utf8');
      if (bytes > maxBytes) {
        throw new SerializationError(
          ErrorCode.CODEC_TOO_LARGE,
          `${what} is ${bytes} bytes encoded, over the limit of ${maxBytes}: store large data elsewhere and pass a reference, or raise maxBytes`,
          { details: { bytes, maxBytes } },
        );
      }
      return text;
    },
    decode<T>(text: string, what = 'value'): T {
      try {
        if (typeof text !== 'string') throw new TypeError(`expected a string, got ${typeof text}`);
        return parse(transform ? transform.decode(text) : text, revivers) as T;
      } catch (error) {
        throw new SerializationError(
          ErrorCode.CODEC_MALFORMED,
          `${what} could not be decoded (${(error as Error).message}): the stored data is corrupt or was not written by Ergon`,
          { cause: error },
        );
      }
    },
  });
}

/** The codec used when none is configured. */
export const defaultCodec: Codec = createCodec();

interface EncodedError {
  name: string;
  message: string;
  stack: string | undefined;
  ergon: boolean;
  props: Record<string, unknown>;
  cause?: unknown;
}

const SKIPPED_ERROR_KEYS = new Set(['name', 'message', 'stack', 'cause']);

const reducers = {
  Error: (value: unknown): EncodedError | false => {
    if (!(value instanceof Error)) return false;
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (!SKIPPED_ERROR_KEYS.has(key)) props[key] = (value as unknown as Record<string, unknown>)[key];
    }
    const encoded: EncodedError = {
      name: value.name,
      message: value.message,
      stack: value.stack,
      ergon: value instanceof ErgonError,
      props,
    };
    if (Object.hasOwn(value, 'cause')) encoded.cause = value.cause;
    return encoded;
  },
};

const revivers = {
  Error: (encoded: EncodedError): Error => {
    const cls = errorClasses.get(encoded.name) ?? (encoded.ergon ? ErgonError : Error);
    const error = Object.create(cls.prototype) as Error;
    const define = (key: string, value: unknown, enumerable = false) =>
      Object.defineProperty(error, key, { value, enumerable, writable: true, configurable: true });
    define('message', encoded.message);
    if (encoded.stack !== undefined) define('stack', encoded.stack);
    if (error.name !== encoded.name) define('name', encoded.name);
    if ('cause' in encoded) define('cause', encoded.cause);
    for (const [key, value] of Object.entries(encoded.props)) {
      if (key !== '__proto__') define(key, value, true);
    }
    return error;
  },
};

function fail(code: ErrorCode, what: string, path: string, problem: string, fix: string): never {
  throw new SerializationError(code, `${what} cannot be encoded: ${problem} at ${path}; ${fix}`, { path });
}

/**
 * Walks the value before encoding so refusals name the exact path and get a
 * code of their own (devalue would accept cycles, and its errors are untyped).
 */
function checkEncodable(value: unknown, path: string, ancestors: Set<object>, what: string): void {
  if (typeof value === 'function')
    fail(ErrorCode.CODEC_FUNCTION, what, path, 'a function', 'return plain data instead');
  if (typeof value === 'symbol') fail(ErrorCode.CODEC_SYMBOL, what, path, 'a symbol', 'use a string instead');
  if (typeof value !== 'object' || value === null) return;
  if (ancestors.has(value)) {
    fail(
      ErrorCode.CODEC_CYCLE,
      what,
      path,
      'a circular reference',
      'durable values must not refer to themselves',
    );
  }
  ancestors.add(value);
  try {
    checkObject(value, path, ancestors, what);
  } finally {
    ancestors.delete(value);
  }
}

function checkObject(value: object, path: string, ancestors: Set<object>, what: string): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (i in value) checkEncodable(value[i], `${path}[${i}]`, ancestors, what);
    }
    return;
  }
  if (value instanceof Map) {
    let i = 0;
    for (const [key, entry] of value) {
      checkEncodable(key, `${path}.<key ${i}>`, ancestors, what);
      checkEncodable(entry, `${path}.<value ${i}>`, ancestors, what);
      i++;
    }
    return;
  }
  if (value instanceof Set) {
    let i = 0;
    for (const entry of value) checkEncodable(entry, `${path}.<entry ${i++}>`, ancestors, what);
    return;
  }
  if (value instanceof Error) {
    if (Object.hasOwn(value, 'cause')) checkEncodable(value.cause, `${path}.cause`, ancestors, what);
    checkProperties(value, path, ancestors, what, SKIPPED_ERROR_KEYS);
    return;
  }
  if (
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof URL ||
    value instanceof URLSearchParams ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    value instanceof Number ||
    value instanceof String ||
    value instanceof Boolean
  ) {
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (proto as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
    fail(
      ErrorCode.CODEC_UNSUPPORTED_TYPE,
      what,
      path,
      `an instance of ${name}`,
      'convert it to plain data (objects, arrays, Map, Set, Date, ...) first',
    );
  }
  checkProperties(value, path, ancestors, what);
}

function checkProperties(
  value: object,
  path: string,
  ancestors: Set<object>,
  what: string,
  skip?: ReadonlySet<string>,
): void {
  if (Object.getOwnPropertySymbols(value).length > 0) {
    fail(ErrorCode.CODEC_SYMBOL, what, path, 'a symbol-keyed property', 'use string keys');
  }
  for (const key of Object.keys(value)) {
    if (skip?.has(key)) continue;
    if (key === '__proto__') {
      fail(
        ErrorCode.CODEC_UNSAFE_KEY,
        what,
        path,
        "an own '__proto__' key",
        'rename the key (it is refused to rule out prototype pollution)',
      );
    }
    checkEncodable((value as Record<string, unknown>)[key], `${path}${formatKey(key)}`, ancestors, what);
  }
}

function formatKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
