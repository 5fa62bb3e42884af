/**
 * The walk the codec makes over a value before encoding it, so every refusal
 * is a `SerializationError` naming the exact path with a code of its own:
 * devalue would accept cycles, its errors are untyped, and it recurses
 * without a limit. Reading the value may run user code (getters, proxy
 * traps); whatever that throws becomes a refusal too, never the user's error.
 *
 * @module
 */
import { ErrorCode, SerializationError } from '../errors.js';

/**
 * The deepest nesting the codec accepts. devalue recurses once per level on
 * both sides and overflows the default stack past about 1,700 levels; this
 * leaves room for the caller's own frames.
 */
export const MAX_DEPTH = 1000;

/** Keys of an Error the codec encodes by itself rather than as own properties. */
export const SKIPPED_ERROR_KEYS: ReadonlySet<string> = new Set(['name', 'message', 'stack', 'cause']);

interface Walk {
  readonly what: string;
  readonly ancestors: Set<object>;
}

function fail(code: ErrorCode, walk: Walk, path: string, problem: string, fix: string): never {
  throw new SerializationError(code, `${walk.what} cannot be encoded: ${problem} at ${path}; ${fix}`, {
    path,
  });
}

/**
 * Throws a `SerializationError` (a `CODEC_*` code, the path of the refused
 * part) unless `value` can be encoded and decoded back as it is.
 */
export function checkEncodable(value: unknown, what: string): void {
  check(value, '$', 0, { what, ancestors: new Set() });
}

function check(value: unknown, path: string, depth: number, walk: Walk): void {
  if (typeof value === 'function')
    fail(ErrorCode.CODEC_FUNCTION, walk, path, 'a function', 'return plain data instead');
  if (typeof value === 'symbol') fail(ErrorCode.CODEC_SYMBOL, walk, path, 'a symbol', 'use a string instead');
  if (typeof value !== 'object' || value === null) return;
  if (depth >= MAX_DEPTH) {
    fail(
      ErrorCode.CODEC_TOO_DEEP,
      walk,
      path,
      `nesting deeper than ${MAX_DEPTH} levels`,
      'flatten the value (a list of records with ids instead of records inside each other)',
    );
  }
  if (walk.ancestors.has(value)) {
    fail(
      ErrorCode.CODEC_CYCLE,
      walk,
      path,
      'a circular reference',
      'durable values must not refer to themselves',
    );
  }
  walk.ancestors.add(value);
  try {
    checkObject(value, path, depth + 1, walk);
  } catch (error) {
    if (error instanceof SerializationError) throw error;
    // A getter, a proxy trap or a stack overflow: the value cannot be read as plain data.
    unreadable(error, walk, path);
  } finally {
    walk.ancestors.delete(value);
  }
}

/** Turns what reading a value threw into the refusal of that value. */
export function unreadable(error: unknown, walk: { readonly what: string }, path: string): never {
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    throw new SerializationError(
      ErrorCode.CODEC_TOO_DEEP,
      `${walk.what} cannot be encoded: it nests too deeply to walk at ${path}; flatten the value`,
      { path, cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  throw new SerializationError(
    ErrorCode.CODEC_UNSUPPORTED_TYPE,
    `${walk.what} cannot be encoded: reading it threw (${message}) at ${path}; ` +
      'pass plain data, not objects with throwing getters or proxies',
    { path, cause: error },
  );
}

function checkObject(value: object, path: string, depth: number, walk: Walk): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (i in value) check(value[i], `${path}[${i}]`, depth, walk);
    }
    return;
  }
  if (value instanceof Map) {
    let i = 0;
    for (const [key, entry] of value) {
      check(key, `${path}.<key ${i}>`, depth, walk);
      check(entry, `${path}.<value ${i}>`, depth, walk);
      i++;
    }
    return;
  }
  if (value instanceof Set) {
    let i = 0;
    for (const entry of value) check(entry, `${path}.<entry ${i++}>`, depth, walk);
    return;
  }
  if (value instanceof Error) {
    if (Object.hasOwn(value, 'cause')) check(value.cause, `${path}.cause`, depth, walk);
    checkProperties(value, path, depth, walk, SKIPPED_ERROR_KEYS);
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
      walk,
      path,
      `an instance of ${name}`,
      'convert it to plain data (objects, arrays, Map, Set, Date, ...) first',
    );
  }
  checkProperties(value, path, depth, walk);
}

function checkProperties(
  value: object,
  path: string,
  depth: number,
  walk: Walk,
  skip?: ReadonlySet<string>,
): void {
  if (Object.getOwnPropertySymbols(value).length > 0) {
    fail(ErrorCode.CODEC_SYMBOL, walk, path, 'a symbol-keyed property', 'use string keys');
  }
  for (const key of Object.keys(value)) {
    if (skip?.has(key)) continue;
    if (key === '__proto__') {
      fail(
        ErrorCode.CODEC_UNSAFE_KEY,
        walk,
        path,
        "an own '__proto__' key",
        'rename the key (it is refused to rule out prototype pollution)',
      );
    }
    const child = `${path}${formatKey(key)}`;
    let entry: unknown;
    try {
      entry = (value as Record<string, unknown>)[key];
    } catch (error) {
      unreadable(error, walk, child);
    }
    check(entry, child, depth, walk);
  }
}

function formatKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
