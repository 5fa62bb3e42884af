/**
 * How the CLI fails: one line on stderr naming what went wrong (with the
 * stable code of an Ergon error), a non-zero exit code, and the stack only
 * under `--verbose`.
 *
 * @module
 */
import { isErgonError } from '@ergon/core';
import { CommanderError } from 'commander';
import { oneLine } from './format.js';

/** Exit codes of the `ergon` command. */
export const ExitCode = {
  /** Done. */
  OK: 0,
  /** Something failed: store, flow not found, module not loadable. */
  ERROR: 1,
  /** The command line is wrong: unknown option, invalid JSON, bad duration. */
  USAGE: 2,
  /** A flow waited on (`--wait`, `flows wait`) failed or was cancelled. */
  FLOW_UNSUCCESSFUL: 3,
  /** The transaction `task process` ran failed (same code as a failed flow: "it ran, and did not succeed"). */
  TRANSACTION_FAILED: 3,
  /** `replay-check` found flows the code does not replay. */
  DIVERGED: 4,
  /** Stopped by a second Ctrl-C. */
  INTERRUPTED: 130,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI reports as is: its message is the whole line. */
export class CliError extends Error {
  /** The process exit code to use. */
  readonly exitCode: ExitCode;

  constructor(message: string, options: { exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? ExitCode.ERROR;
  }
}

/** A command-line mistake (exit code 2). */
export function usageError(message: string, cause?: unknown): CliError {
  return new CliError(message, { exitCode: ExitCode.USAGE, cause });
}

// Library errors that mean "you typed something wrong", not "something broke".
const USAGE_CODES = new Set(['INVALID_ARGUMENT', 'INVALID_ID', 'INVALID_DURATION', 'INVALID_SCHEDULE']);

/** The line to print and the exit code for anything thrown by a command. */
export function describeError(error: unknown): { line: string; exitCode: ExitCode } {
  if (error instanceof CliError)
    return { line: `error: ${oneLine(error.message)}`, exitCode: error.exitCode };
  if (isErgonError(error)) {
    const exitCode = USAGE_CODES.has(error.code) ? ExitCode.USAGE : ExitCode.ERROR;
    return { line: `error: ${oneLine(error.message)} [${error.code}]`, exitCode };
  }
  if (error instanceof CommanderError) return { line: oneLine(error.message), exitCode: ExitCode.USAGE };
  const message = error instanceof Error ? error.message : String(error);
  return { line: `error: ${oneLine(message)}`, exitCode: ExitCode.ERROR };
}

/** The stack of `error` and of each of its causes, for `--verbose`. */
export function describeStack(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    const text =
      current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current);
    parts.push(depth === 0 ? text : `caused by: ${text}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\n');
}
