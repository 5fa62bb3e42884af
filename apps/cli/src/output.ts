/**
 * Where output goes: results on stdout (human text, or JSON only under
 * `--json`), notes, warnings and progress on stderr.
 *
 * @module
 */
import type { LogFields, Logger } from '@ergon/core';
import Table from 'cli-table3';
import { oneLine, toPlain } from './format.js';

/** Writes a command's output in the mode the user asked for. */
export class Output {
  /** True under `--json`: stdout carries one JSON document and nothing else. */
  readonly json: boolean;
  readonly #stdout: NodeJS.WritableStream;
  readonly #stderr: NodeJS.WritableStream;

  constructor(options: { json: boolean; stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream }) {
    this.json = options.json;
    this.#stdout = options.stdout ?? process.stdout;
    this.#stderr = options.stderr ?? process.stderr;
  }

  /** Human text on stdout; ignored under `--json`. */
  text(text: string): void {
    if (!this.json) this.#stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A JSON document on stdout (values made JSON-safe); ignored without `--json`. */
  data(value: unknown): void {
    if (this.json) this.#stdout.write(`${JSON.stringify(toPlain(value), null, 2)}\n`);
  }

  /** One JSON object per line on stdout, for streams of events (`worker --json`). */
  event(value: Record<string, unknown>): void {
    this.#stdout.write(`${JSON.stringify(toPlain(value))}\n`);
  }

  /** A note for people on stderr, in both modes (never part of the result). */
  note(text: string): void {
    this.#stderr.write(`${text}\n`);
  }

  /** True when progress bars may be drawn: a terminal on stderr, and not `--json`. */
  get interactive(): boolean {
    return !this.json && (this.#stderr as { isTTY?: boolean }).isTTY === true;
  }

  /** The stream progress bars draw on. */
  get progressStream(): NodeJS.WritableStream {
    return this.#stderr;
  }
}

/** A table with a header row, plain (no colours), as text. */
export function renderTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const table = new Table({
    head: [...head],
    style: { head: [], border: [] },
    // No rule between body rows: compact, one line per row.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) table.push(row.map((cell) => oneLine(cell)));
  return table.toString();
}

/**
 * A logger for the stores and the worker: warnings and errors as
 * `warning: message (key=value …)` lines on stderr; debug and info only with `verbose`.
 */
export function cliLogger(options: { verbose: boolean; base?: LogFields }): Logger {
  const write = (level: string, message: string, fields?: LogFields) => {
    const all = { ...options.base, ...fields };
    const extra = Object.entries(all)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(toPlain(v))}`)
      .join(' ');
    process.stderr.write(`${level}: ${oneLine(message)}${extra ? ` (${oneLine(extra)})` : ''}\n`);
  };
  return {
    debug: (m, f) => {
      if (options.verbose) write('debug', m, f);
    },
    info: (m, f) => {
      if (options.verbose) write('info', m, f);
    },
    warn: (m, f) => write('warning', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => cliLogger({ ...options, base: { ...options.base, ...fields } }),
  };
}
