/**
 * Durations: `'30s'`, `'2h'`, `'1.5 days'`, or a number of milliseconds.
 *
 * @module
 */
import ms from 'ms';
import { ErrorCode, InvalidArgumentError } from './errors.js';

/** A duration: milliseconds as a number, or a string such as `'250ms'`, `'30s'`, `'2h'`, `'7d'`. */
export type Duration = number | string;

/**
 * Converts a {@link Duration} to whole milliseconds.
 *
 * @throws InvalidArgumentError with code `INVALID_DURATION` for negative, non-finite or unparsable input.
 */
export function toMillis(duration: Duration, what = 'duration'): number {
  let value: number | undefined;
  if (typeof duration === 'number') {
    value = duration;
  } else if (typeof duration === 'string') {
    const trimmed = duration.trim();
    try {
      value = /^\d+(\.\d+)?$/.test(trimmed)
        ? Number(trimmed)
        : (ms(trimmed as ms.StringValue) as number | undefined);
    } catch {
      value = undefined;
    }
  }
  if (value === undefined || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(duration)} is not a valid duration: use a non-negative number of milliseconds or a string like '250ms', '30s', '5m', '2h', '7d'`,
      { code: ErrorCode.INVALID_DURATION, details: { what, value: String(duration) } },
    );
  }
  return Math.round(value);
}

/** Formats milliseconds for humans (`1500` → `'1.5s'`, `90000` → `'2m'`), for logs and the CLI. */
export function formatDuration(millis: number): string {
  if (millis < 1) return `${Math.round(millis * 1000)}µs`;
  if (millis < 1000) return `${Math.round(millis * 10) / 10}ms`;
  if (millis < 60_000) return `${Math.round(millis / 100) / 10}s`;
  return ms(Math.round(millis));
}
