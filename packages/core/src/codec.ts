/**
 * The payload codec: every durable value (flow input, step result, signal
 * payload, transaction payload) goes through it. Built on `devalue`, which
 * round-trips Date, BigInt, Map, Set, undefined, -0, NaN, RegExp, URL and typed
 * arrays; Ergon adds Error (with `cause`, `code` and the original class where
 * it is registered), refuses what cannot be rebuilt, and enforces a size limit.
 *
 * Every encoded value carries a checksum (a CRC-32 in a short frame,
 * `#c<8 hex>:`), verified on decode: a value altered at rest fails with
 * `STORE_CORRUPT` instead of being read as other data. Text without a frame
 * (written before checksums existed) decodes as before.
 *
 * @module
 */
import { stringify, unflatten } from 'devalue';
import { ErgonError, ErrorCode, InvalidArgumentError, SerializationError } from './errors.js';
import { FRAME_LENGTH, frame, isFramed, unframe } from './internal/checksum.js';
import { checkEncodable, SKIPPED_ERROR_KEYS, unreadable } from './internal/encodable.js';
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
  /**
   * Frame each encoded value with a CRC-32 of its text (after `transform`), so
   * decoding detects a value altered at rest (`STORE_CORRUPT`). Default true.
   * Decoding verifies a frame whenever one is present, whatever this says.
   */
  checksum?: boolean;
}

/** Encodes values to text and back. */
export interface Codec {
  /** The size limit in bytes. */
  readonly maxBytes: number;
  /**
   * Encodes `value`. `what` names the value in error messages (`'step result of charge#0'`).
   * Reading the value runs its getters and proxy traps; whatever they throw is refused too.
   * @throws SerializationError with a `CODEC_*` code for values that cannot be stored,
   *   never another error.
   */
  encode(value: unknown, what?: string): string;
  /**
   * Decodes text written by {@link Codec.encode}.
   * @throws SerializationError with code `STORE_CORRUPT` when the text's checksum does not match
   *   (it was altered after encoding), or `CODEC_MALFORMED` for text this codec did not write.
   */
  decode<T = unknown>(text: string, what?: string): T;
}

/** The default size limit: 2 MiB. */
export const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;

/** An error class, as {@link registerErrorClass} takes it: any constructor of `Error`s. */
export type ErrorClass = abstract new (...args: never[]) => Error;

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

/** Strings devalue writes as they are between quotes (no escapes, no `<`). */
const PLAIN_STRING = /^[\x20-\x21\x23-\x3b\x3d-\x5b\x5d-\x7e]*$/;

/** devalue's number for `undefined` standing alone (its text `-1`). */
const UNDEFINED = -1;
const UNDEFINED_TEXT = '-1';

/**
 * devalue's text for the values most step results are (a finite number other than -0, a
 * boolean, null, a short plain string, undefined: what a step or flow that returns nothing
 * gives), written directly: devalue's general walk costs a worker more than the rest of a
 * one-step flow's encoding. Undefined for anything else. `codec.test.ts` checks the codec
 * against devalue for such values.
 */
function encodePrimitive(value: unknown): string | undefined {
  switch (typeof value) {
    case 'undefined':
      return UNDEFINED_TEXT;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? `[${value}]` : undefined;
    case 'boolean':
      return value ? '[true]' : '[false]';
    case 'string':
      return value.length <= 256 && PLAIN_STRING.test(value) ? `["${value}"]` : undefined;
    case 'object':
      return value === null ? '[null]' : undefined;
    default:
      return undefined;
  }
}

/** The most keys {@link encodeFlatObject} writes: past them, devalue's general walk. */
const FLAT_MAX_KEYS = 32;

/**
 * devalue's text for a plain object whose own keys are plain strings and whose values are all
 * values {@link encodePrimitive} writes (a finite number other than -0, a boolean, null, a
 * short plain string), the shape of most flow inputs (`{ orderId: 'a1', qty: 3 }`): the object
 * at index 0, then each distinct value once, in the order first met, as devalue writes them.
 * Without devalue's walk and the encodability check before it (two walks over every value), and
 * their code, which a process idle for a while reads again from memory on every schedule.
 * Undefined for anything else; a throw (a getter, a proxy) leaves the value to that path too,
 * which reports it. `codec.test.ts` checks it against devalue.
 */
function encodeFlatObject(value: object): string | undefined {
  if (Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const keys = Object.keys(value);
  if (keys.length > FLAT_MAX_KEYS || Object.getOwnPropertySymbols(value).length > 0) return undefined;
  const values: unknown[] = [];
  let object = '';
  let rest = '';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key === '__proto__' || !PLAIN_STRING.test(key)) return undefined;
    const item = (value as Record<string, unknown>)[key];
    let seen = values.indexOf(item);
    if (seen < 0) {
      const text = primitiveText(item);
      if (text === undefined) return undefined;
      seen = values.push(item) - 1;
      rest += `,${text}`;
    }
    object += `${i === 0 ? '"' : ',"'}${key}":${seen + 1}`;
  }
  return `[{${object}}${rest}]`;
}

/** {@link encodeFlatObject} for an object; undefined for anything else, or when reading it throws. */
function flatObject(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  try {
    return encodeFlatObject(value);
  } catch {
    return undefined;
  }
}

/** How devalue writes `value` at its own index, for the values {@link encodePrimitive} writes but undefined. */
function primitiveText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? String(value) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return value.length <= 256 && PLAIN_STRING.test(value) ? `"${value}"` : undefined;
    case 'object':
      return value === null ? 'null' : undefined;
    default:
      return undefined;
  }
}

/**
 * devalue's `parse`, with the values most inputs and results are read without its general walk:
 * a primitive stands alone in a one-element array (`[1]`, `["a"]`), and `undefined` is `-1`.
 * `codec.test.ts` checks these against devalue.
 */
function decodeText(text: string): unknown {
  if (text === UNDEFINED_TEXT) return undefined;
  const parsed: unknown = JSON.parse(text);
  if (Array.isArray(parsed)) {
    const only: unknown = parsed[0];
    if (parsed.length === 1 && (only === null || typeof only !== 'object')) return only;
    const flat = decodeFlatObject(parsed);
    if (flat !== undefined) return flat;
  } else if (parsed === UNDEFINED) {
    return undefined;
  }
  return unflatten(parsed as number | unknown[], revivers);
}

/**
 * What devalue's `unflatten` makes of a plain object whose values all stand at their own index
 * as primitives (what {@link encodeFlatObject} writes), made directly; undefined for any other
 * text (then `unflatten`). `codec.test.ts` checks it against devalue.
 */
function decodeFlatObject(parsed: unknown[]): object | undefined {
  const head: unknown = parsed[0];
  if (typeof head !== 'object' || head === null || Array.isArray(head)) return undefined;
  const object: Record<string, unknown> = {};
  for (const key of Object.keys(head)) {
    const index = (head as Record<string, unknown>)[key];
    if (key === '__proto__' || typeof index !== 'number' || !Number.isInteger(index) || index < 1)
      return undefined;
    const item: unknown = parsed[index];
    if (index >= parsed.length || (item !== null && typeof item === 'object')) return undefined;
    object[key] = item;
  }
  return object;
}

/** Slots of a codec's kept texts: undefined, null, true and false. */
const KEPT_SLOTS = 4;

/**
 * Where a codec keeps the text of `value` once made: undefined, null or a boolean (what a step
 * that returns nothing or a flag returns); else -1. Other values are encoded each time.
 */
function keptSlot(value: unknown): number {
  switch (typeof value) {
    case 'undefined':
      return 0;
    case 'boolean':
      return value ? 2 : 3;
    case 'object':
      return value === null ? 1 : -1;
    default:
      return -1;
  }
}

/** Creates a codec. The returned object is frozen and safe to share. */
export function createCodec(options: CodecOptions = {}): Codec {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) {
    throw new InvalidArgumentError(`codec maxBytes must be a positive integer (got ${maxBytes})`);
  }
  const transform = options.transform;
  const checksum = options.checksum ?? true;
  // The texts of the constants steps return most, made once: a checksum frame (its CRC and hex
  // digits) costs more than the rest of encoding one. Not with a transform, which need not give
  // one text per value (an encryption with a fresh nonce each time).
  const kept: (string | undefined)[] | undefined = transform
    ? undefined
    : new Array<string | undefined>(KEPT_SLOTS).fill(undefined);
  const encodeFresh = (value: unknown, what: string): string => {
    let text: string;
    try {
      const primitive = encodePrimitive(value) ?? flatObject(value);
      if (primitive === undefined) {
        checkEncodable(value, what);
        text = stringify(value, reducers);
      } else {
        text = primitive;
      }
    } catch (error) {
      if (error instanceof SerializationError) throw error;
      // devalue reads the value again: a getter that throws only now, or a stack overflow.
      return unreadable(error, { what }, '$');
    }
    if (transform) text = transform.encode(text);
    if (checksum) text = frame(text);
    const bytes = text.length * 3 <= maxBytes ? text.length : Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) {
      throw new SerializationError(
        ErrorCode.CODEC_TOO_LARGE,
        `${what} is ${bytes} bytes encoded, over the limit of ${maxBytes}: store large data elsewhere and pass a reference, or raise maxBytes`,
        { details: { bytes, maxBytes } },
      );
    }
    return text;
  };
  return Object.freeze({
    maxBytes,
    encode(value: unknown, what = 'value'): string {
      const slot = kept === undefined ? -1 : keptSlot(value);
      if (kept === undefined || slot < 0) return encodeFresh(value, what);
      kept[slot] ??= encodeFresh(value, what);
      return kept[slot];
    },
    decode<T>(text: string, what = 'value'): T {
      let body = text;
      if (typeof text === 'string' && isFramed(text)) {
        const inner = unframe(text);
        if (inner === undefined) throw altered(text, what);
        body = inner;
      }
      try {
        if (typeof body !== 'string') throw new TypeError(`expected a string, got ${typeof body}`);
        return decodeText(transform ? transform.decode(body) : body) as T;
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

function altered(text: string, what: string): SerializationError {
  return new SerializationError(
    ErrorCode.STORE_CORRUPT,
    `${what} was altered after it was stored: its checksum (${text.slice(2, FRAME_LENGTH - 1)}) does not match its text; ` +
      'restore the store from a backup (Ergon will not run a flow on altered data)',
  );
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
