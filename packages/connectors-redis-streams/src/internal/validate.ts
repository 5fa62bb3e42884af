/**
 * Checks shared by the service's and the stream's options: each failure is
 * an `INVALID_ARGUMENT` naming the option.
 *
 * @module
 */
import { hostname } from 'node:os';
import { ErrorCode, InvalidArgumentError } from '@ergon/core';

/** Connection and consumer names: what `CLIENT SETNAME` accepts. */
export const NAME = /^[A-Za-z0-9_.:/-]{1,128}$/;

/** @throws InvalidArgumentError (`INVALID_ARGUMENT`) with `message`. */
export function invalid(what: string, message: string): never {
  throw new InvalidArgumentError(`${what}: ${message}`, {
    code: ErrorCode.INVALID_ARGUMENT,
  });
}

/** A non-empty string of at most 1024 characters, or undefined when not given. */
export function text(what: string, option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > 1024)
    invalid(what, `${option} must be a non-empty string of at most 1024 characters`);
  return value as string;
}

/** A whole number ≥ 1, or `fallback` when not given. */
export function positiveInteger(what: string, option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    invalid(what, `${option} must be a whole number ≥ 1 (got ${String(value)})`);
  return value as number;
}

/** `<host>-<pid>`, made safe for names: the default connection and consumer names start with it. */
export function defaultIdentity(): string {
  return `${hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .slice(0, 64)}-${process.pid}`;
}
