/**
 * Turns log fields into JSON-safe values with secrets removed. Every line any
 * transport writes goes through here first, so a configured key never reaches
 * a console, a file or a collector.
 *
 * @module
 */

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Keys redacted by default, at any depth. Keys are compared case-insensitively
 * and ignoring `-`, `_` and `.`, so `apiKey`, `api_key` and `API-KEY` all match
 * `apikey`.
 */
export const DEFAULT_REDACT_KEYS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'pwd',
  'secret',
  'clientSecret',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'apiKey',
  'x-api-key',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'privateKey',
  'credentials',
]);

/** A JSON value: what a log line is made of. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Options of {@link createRedactor}. */
export interface RedactorOptions {
  /** Keys whose values are replaced by {@link REDACTED}, compared as {@link DEFAULT_REDACT_KEYS} says. */
  readonly keys: readonly string[];
  /** Nesting below this depth is replaced by `'[Truncated]'`. Default 10. */
  readonly maxDepth?: number;
}

/** Turns a fields object into a JSON-safe copy with every configured key redacted. */
export type Redactor = (fields: Readonly<Record<string, unknown>>) => Record<string, JsonValue>;

/** The normal form keys are compared in. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_.\s]/g, '');
}

/**
 * A function that copies log fields into plain JSON, replacing the value of
 * every configured key (at any depth, in objects, arrays, `Map`s and error
 * properties) by `"[REDACTED]"`. Also makes values safe to serialise: BigInt
 * as a string, `Date` as ISO text, errors as `{ name, message, stack, … }`,
 * cycles as `"[Circular]"`, binary data summarised, URL passwords removed.
 * Never throws.
 */
export function createRedactor(options: RedactorOptions): Redactor {
  const keys = new Set(options.keys.map(normalizeKey));
  const maxDepth = options.maxDepth ?? 10;
  const redacts = (key: string) => keys.has(normalizeKey(key));

  const object = (entries: Iterable<[string, unknown]>, depth: number, seen: Set<object>) => {
    const out: Record<string, JsonValue> = {};
    for (const [key, value] of entries) {
      if (redacts(key)) {
        out[key] = REDACTED;
        continue;
      }
      if (value === undefined) continue;
      out[key] = copy(value, depth + 1, seen);
    }
    return out;
  };

  const copy = (value: unknown, depth: number, seen: Set<object>): JsonValue => {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        return Number.isFinite(value) ? value : String(value);
      case 'bigint':
        return value.toString();
      case 'undefined':
        return null;
      case 'symbol':
        return value.toString();
      case 'function':
        return `[Function ${value.name || 'anonymous'}]`;
    }
    if (value === null) return null;
    const obj = value as object;
    if (seen.has(obj)) return '[Circular]';
    if (depth >= maxDepth) return '[Truncated]';
    if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
    if (obj instanceof URL) return urlWithoutPassword(obj);
    if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) {
      return `[${obj.constructor.name} ${obj.byteLength} bytes]`;
    }
    seen.add(obj);
    try {
      if (Array.isArray(obj)) return obj.map((item) => copy(item, depth + 1, seen));
      if (obj instanceof Set) return [...obj].map((item) => copy(item, depth + 1, seen));
      if (obj instanceof Map) {
        return object(
          [...obj].map(([k, v]): [string, unknown] => [String(k), v]),
          depth,
          seen,
        );
      }
      if (obj instanceof Error) return errorObject(obj, depth, seen);
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return copy(toJSON.call(obj), depth + 1, seen);
      return object(safeEntries(obj), depth, seen);
    } catch {
      return '[Unserializable]';
    } finally {
      seen.delete(obj);
    }
  };

  const errorObject = (error: Error, depth: number, seen: Set<object>): JsonValue => {
    const base: [string, unknown][] = [
      ['name', error.name],
      ['message', error.message],
    ];
    const code = (error as { code?: unknown }).code;
    if (code !== undefined) base.push(['code', code]);
    if (error.stack !== undefined) base.push(['stack', error.stack]);
    if (error.cause !== undefined) base.push(['cause', error.cause]);
    const extra = safeEntries(error).filter(
      ([k]) => !['name', 'message', 'code', 'stack', 'cause'].includes(k),
    );
    return object([...base, ...extra], depth, seen);
  };

  return (fields) => {
    try {
      return object(safeEntries(fields), 0, new Set([fields]));
    } catch {
      return { fields: '[Unserializable]' };
    }
  };
}

/** Own enumerable string-keyed entries; a throwing getter becomes a marker instead of an exception. */
function safeEntries(obj: object): [string, unknown][] {
  return Object.keys(obj).map((key): [string, unknown] => {
    try {
      return [key, (obj as Record<string, unknown>)[key]];
    } catch {
      return [key, '[Unserializable]'];
    }
  });
}

function urlWithoutPassword(url: URL): string {
  if (!url.password) return url.href;
  const copy = new URL(url.href);
  copy.password = REDACTED;
  return copy.href;
}
