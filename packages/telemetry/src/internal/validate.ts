/**
 * Option checks shared by `setupTelemetry` and `createLogger`. Each failure is
 * an `InvalidArgumentError` (code `INVALID_ARGUMENT`) naming the option and
 * saying what would be accepted.
 *
 * @module
 */
import { InvalidArgumentError } from '@ergon/core';

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws unless `value` is an object; returns it typed. */
export function requireObject(value: unknown, name: string): Record<string, unknown> {
  if (!isRecord(value)) throw new InvalidArgumentError(`${name} must be an object, got ${describe(value)}`);
  return value;
}

/** Throws when `value` has a key outside `allowed` (catches typos such as `tarces`). */
export function rejectUnknownKeys(
  value: Record<string, unknown>,
  allowed: readonly string[],
  name: string,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(
        `${name} has an unknown option '${key}'; known options: ${allowed.join(', ')}`,
        {
          details: { option: key },
        },
      );
    }
  }
}

/** Throws unless `value` is a non-empty string without control characters. */
export function requireName(value: unknown, name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (typeof value !== 'string' || value.trim() === '' || /[\u0000-\u001f]/.test(value)) {
    throw new InvalidArgumentError(`${name} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is undefined or an absolute http(s) URL. */
export function optionalUrl(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new InvalidArgumentError(`${name} must be an http:// or https:// URL, got ${describe(value)}`);
  }
  return value as string;
}

/** Throws unless `value` is undefined or an integer in `[min, max]`. */
export function optionalInteger(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      `${name} must be an integer from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

/** Throws unless `value` is undefined or a record of string header values. */
export function optionalHeaders(value: unknown, name: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const record = requireObject(value, name);
  for (const [key, header] of Object.entries(record)) {
    if (typeof header !== 'string') {
      throw new InvalidArgumentError(`${name}.${key} must be a string, got ${describe(header)}`);
    }
  }
  return { ...(record as Record<string, string>) };
}

/** True when `value` has every named method: the duck type of an exporter or reader. */
export function hasMethods(value: unknown, methods: readonly string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function')
  );
}

/** A short description of a value for error messages (never its full content). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 60 ? `a string of ${value.length} characters` : `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}
