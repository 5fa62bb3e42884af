/**
 * Decoded payloads (inputs, results, errors, signal payloads) as text for
 * people: pretty-printed JSON with the codec's richer types spelled out, cut
 * at a size a page can show. The page shows the text as text, never markup.
 *
 * @module
 */

/** A value shown on a page. */
export interface ValuePreview {
  /** Pretty-printed, at most the limit's characters. */
  readonly text: string;
  /** True when `text` was cut. */
  readonly truncated: boolean;
  /** Length of the whole pretty-printed text. */
  readonly length: number;
}

/** Default cut of a payload on the flow page. */
export const PREVIEW_CHARS = 20_000;

/** `value` pretty-printed and cut to `limit` characters. */
export function preview(value: unknown, limit = PREVIEW_CHARS): ValuePreview {
  const text = pretty(value);
  if (text.length <= limit) return { text, truncated: false, length: text.length };
  return { text: `${text.slice(0, limit)}\n…`, truncated: true, length: text.length };
}

/** One line describing an error (its name and message), cut to `limit` characters. */
export function errorLine(error: unknown, limit = 300): string | undefined {
  if (error === undefined || error === null) return undefined;
  let text: string;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    text = `${error.name}: ${error.message}${typeof code === 'string' ? ` [${code}]` : ''}`;
  } else if (typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
    text = String((error as { message: string }).message);
  } else text = typeof error === 'string' ? error : pretty(error);
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

/** JSON with 2-space indents; Dates, BigInts, Maps, Sets, Errors and undefined made readable. */
export function pretty(value: unknown): string {
  if (value === undefined) return 'undefined';
  const seen = new WeakSet<object>();
  try {
    const text = JSON.stringify(toPlain(value, seen, 0), null, 2);
    return text ?? String(value);
  } catch {
    return String(value);
  }
}

const MAX_DEPTH = 40;

function toPlain(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (depth > MAX_DEPTH) return '[too deep]';
  switch (typeof value) {
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return '[undefined]';
    case 'function':
      return '[function]';
    case 'symbol':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  const next = (v: unknown) => toPlain(v, seen, depth + 1);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof Error) {
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== 'stack') extra[k] = next(v);
    return {
      name: value.name,
      message: value.message,
      ...extra,
      ...(value.cause === undefined ? {} : { cause: next(value.cause) }),
      ...(value.stack === undefined ? {} : { stack: value.stack.split('\n').slice(0, 12).join('\n') }),
    };
  }
  if (value instanceof Map) return { '[Map]': [...value].map(([k, v]) => [next(k), next(v)]) };
  if (value instanceof Set) return { '[Set]': [...value].map(next) };
  if (ArrayBuffer.isView(value)) return `[${value.constructor.name} of ${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.map(next);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = next(v);
  return out;
}
