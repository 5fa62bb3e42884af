/**
 * Options of the JSON-lines file service, validated once and frozen.
 *
 * @module
 */
import { basename, resolve } from 'node:path';
import { type Duration, ErrorCode, InvalidArgumentError, toMillis } from '@ergon/core';

/** Options of {@link JsonLinesFileService}. */
export interface JsonLinesFileServiceOptions {
  /** The JSON-lines file: read by fetches, appended to by dispatches. Need not exist yet. */
  readonly path: string;
  /** Name used in logs and dependency injection. Default `file:<basename>`. */
  readonly name?: string;
  /** Directory of the claim and done markers. Default `<path>.ergon`. One per source file. */
  readonly stateDir?: string;
  /** Where refused lines go, one JSON record a line. Default `<path>.dead-letter.jsonl`. */
  readonly deadLetterPath?: string;
  /**
   * A claim whose holder has not renewed it for this long is taken over by
   * another process. Holders renew every third of it. A holder on the same
   * host that died is detected at once, without waiting. Default `'30s'`.
   */
  readonly claimTimeout?: Duration;
  /**
   * The file is still being written: an unterminated last line is left until
   * its newline arrives. When false (default) it counts as a finished line.
   */
  readonly follow?: boolean;
  /**
   * fsync markers and appended lines before returning, so they survive power
   * loss and OS crashes, not only process crashes. Default false.
   */
  readonly fsync?: boolean;
}

/** {@link JsonLinesFileServiceOptions} resolved: absolute paths, milliseconds. */
export interface ResolvedServiceOptions {
  /** Name for logs and dependency injection. */
  readonly name: string;
  /** Absolute path of the file. */
  readonly path: string;
  /** Absolute path of the claim and done markers. */
  readonly stateDir: string;
  /** Absolute path of the dead-letter file. */
  readonly deadLetterPath: string;
  /** Claim timeout in ms. */
  readonly claimTimeoutMs: number;
  /** Whether an unterminated last line waits. */
  readonly follow: boolean;
  /** Whether writes are fsynced. */
  readonly fsync: boolean;
}

/**
 * Validates and resolves service options.
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`, `INVALID_DURATION`) naming the bad option.
 */
export function resolveServiceOptions(options: JsonLinesFileServiceOptions): ResolvedServiceOptions {
  const fail = (message: string): never => {
    throw new InvalidArgumentError(`json-lines file service: ${message}`, {
      code: ErrorCode.INVALID_ARGUMENT,
    });
  };
  if (typeof options !== 'object' || options === null)
    fail('options are required, e.g. { path: "in.jsonl" }');
  const text = (value: unknown, what: string): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') fail(`${what} must be a non-empty string`);
    return value as string;
  };
  const path = resolve(text(options.path, 'path') ?? fail('path is required'));
  const claimTimeoutMs = toMillis(options.claimTimeout ?? '30s', 'claimTimeout');
  if (claimTimeoutMs < 30) fail(`claimTimeout must be at least 30 ms (got ${claimTimeoutMs} ms)`);
  for (const flag of ['follow', 'fsync'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') fail(`${flag} must be a boolean`);
  }
  return Object.freeze({
    name: text(options.name, 'name') ?? `file:${basename(path)}`,
    path,
    stateDir: resolve(text(options.stateDir, 'stateDir') ?? `${path}.ergon`),
    deadLetterPath: resolve(text(options.deadLetterPath, 'deadLetterPath') ?? `${path}.dead-letter.jsonl`),
    claimTimeoutMs,
    follow: options.follow ?? false,
    fsync: options.fsync ?? false,
  });
}
