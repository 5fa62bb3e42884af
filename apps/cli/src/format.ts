/**
 * Turning stored values into text: one-line previews for people, plain JSON
 * for scripts. Stored data is user content, so control characters are
 * escaped before anything reaches a terminal.
 *
 * @module
 */
import { formatDuration } from '@ergon/core';

// C0 and C1 control characters: they could move the cursor or recolour the terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** `text` on one line: line breaks become spaces, other control characters `\uXXXX`. */
export function oneLine(text: string): string {
  return text
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .replace(CONTROLS, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

/** `text` cut to `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
}

/** A one-line JSON preview of a decoded value, at most `max` characters. */
export function preview(value: unknown, max = 100): string {
  if (value === undefined) return '—';
  const text = JSON.stringify(toPlain(value)) ?? String(value);
  return truncate(oneLine(text), max);
}

/** `name: message` of a decoded error (an `Error`, or whatever was stored), on one line. */
export function errorText(error: unknown, max = 200): string {
  if (error === undefined || error === null) return '';
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const head = typeof code === 'string' ? `${error.name} [${code}]` : error.name;
    return truncate(oneLine(`${head}: ${error.message}`), max);
  }
  return preview(error, max);
}

/**
 * A JSON-safe copy of a decoded value: BigInt as a string, Date as ISO text,
 * Map as an object (or entry pairs when a key is not a string), Set and typed
 * arrays as arrays, Error as `{ name, message, code?, details?, cause? }`;
 * functions, symbols and `undefined` dropped; a repeated object as `"[Circular]"`.
 */
export function toPlain(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
    case 'undefined':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (value instanceof Error) return plainError(value, seen);
    if (value instanceof Map) {
      const entries = [...value.entries()];
      return entries.every(([k]) => typeof k === 'string')
        ? Object.fromEntries(entries.map(([k, v]) => [k, toPlain(v, seen)]))
        : entries.map(([k, v]) => [toPlain(k, seen), toPlain(v, seen)]);
    }
    if (value instanceof Set) return [...value].map((v) => toPlain(v, seen));
    if (ArrayBuffer.isView(value))
      return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => toPlain(v, seen));
    if (value instanceof ArrayBuffer) return Array.from(new Uint8Array(value));
    if (Array.isArray(value)) return value.map((v) => toPlain(v, seen) ?? null);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const plain = toPlain(v, seen);
      if (plain !== undefined) out[k] = plain;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function plainError(error: Error, seen: WeakSet<object>): Record<string, unknown> {
  const { code, details } = error as { code?: unknown; details?: unknown };
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  if (code !== undefined) out.code = toPlain(code, seen);
  if (details !== undefined && Object.keys(details as object).length > 0)
    out.details = toPlain(details, seen);
  if (error.cause !== undefined) out.cause = toPlain(error.cause, seen);
  return out;
}

/** Epoch milliseconds as ISO 8601 text, or undefined. */
export function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Epoch milliseconds as local `YYYY-MM-DD HH:MM:SS` for tables, or `—`. */
export function localTime(ms: number | undefined): string {
  if (ms === undefined) return '—';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A duration for people (`1.5s`), or `—`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return '—';
  // Stored times are whole milliseconds: 0 means "under a millisecond", not 0µs.
  if (ms < 1000) return `${Math.round(ms)}ms`;
  // Seconds keep a decimal (formatDuration would round 1500 to '2s').
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))}s`;
  return formatDuration(ms);
}

/** How far `at` is from `now`, for people: `in 3s`, `2m ago`. */
export function relative(at: number, now = Date.now()): string {
  const delta = at - now;
  return delta >= 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
}
