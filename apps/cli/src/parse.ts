/**
 * Parsing of option values: JSON payloads, counts, durations, statuses.
 * Mistakes are usage errors (exit code 2) naming the option.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { type FlowStatus, toMillis } from '@ergon/core';
import { InvalidArgumentError as OptionValueError } from 'commander';
import { CliError, usageError } from './errors.js';
import { oneLine, truncate } from './format.js';

/** Parses JSON given on the command line for `option`. @throws CliError (usage). */
export function parseJson(text: string, option: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw usageError(`invalid JSON in ${option} (${truncate(oneLine(text), 40)}): ${oneLine(reason)}`, error);
  }
}

/** Reads and parses a JSON file (`-` for stdin). @throws CliError. */
export function readJsonFile(path: string, option: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new CliError(`cannot read ${option} ${path}: ${reason}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw usageError(
      `invalid JSON in ${option} ${path}: ${error instanceof Error ? error.message : error}`,
      error,
    );
  }
}

/** Commander parser for a whole number ≥ `min`. */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new OptionValueError(`expected a whole number ≥ ${min}`);
    }
    return n;
  };
}

/** Commander parser for a duration (`250ms`, `30s`, `2h`, `7d`, or milliseconds); keeps the text. */
export function durationText(value: string): string {
  try {
    toMillis(value);
  } catch {
    throw new OptionValueError("expected a duration like '250ms', '30s', '5m', '2h', '7d'");
  }
  return value;
}

/** Commander collector for repeatable options that also accept comma-separated lists. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return [...(previous ?? []), ...items];
}

const STATUSES: readonly FlowStatus[] = [
  'pending',
  'running',
  'suspended',
  'completed',
  'failed',
  'cancelled',
];

/** Commander parser for `--status s,...`. */
export function statusList(value: string, previous: FlowStatus[] | undefined): FlowStatus[] {
  const out = [...(previous ?? [])];
  for (const item of collectList(value, [])) {
    if (!STATUSES.includes(item as FlowStatus)) {
      throw new OptionValueError(`unknown status '${item}': use ${STATUSES.join(', ')}`);
    }
    out.push(item as FlowStatus);
  }
  return out;
}

/** The statuses of flows that have not finished. */
export const UNFINISHED: readonly FlowStatus[] = ['pending', 'running', 'suspended'];
