/**
 * A reference to CPU-bound work that runs on a worker thread. Functions
 * cannot cross threads, so threaded work is named by module and export; the
 * thread imports the module (plain JavaScript) and calls the export.
 *
 * @module
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '@ergon/core';
import type { Awaitable } from './context.js';

/** What threaded work receives besides its input. */
export interface ThreadScope {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The lifecycle stage (`process`, `prepare`). */
  readonly stage: string;
}

/**
 * A function run on a worker thread: `(input, scope) => result`. Its input
 * and result cross threads by structured clone (plain data, Date, Map, Set,
 * typed arrays). `A` and `R` are declared by the caller.
 */
export interface ThreadWork<A, R> {
  /** Marks thread work. */
  readonly kind: 'thread-work';
  /** `file:` URL of an ES module. */
  readonly module: string;
  /** The export to call. */
  readonly export: string;
  /** Type marker only; never set. */
  __signature?(input: A, scope: ThreadScope): Awaitable<R>;
}

/**
 * Names threaded work: `threadWork<Transaction<Img>, Thumb>(new URL('./resize.js', import.meta.url), 'resize')`.
 * A timeout or shutdown terminates the thread running it; the pool replaces it.
 *
 * @throws InvalidArgumentError when the module or export name is malformed.
 */
export function threadWork<A, R>(module: string | URL, exportName = 'default'): ThreadWork<A, R> {
  let url: string;
  if (module instanceof URL) url = module.href;
  else if (typeof module === 'string' && /^(file|data):/.test(module)) url = module;
  else if (typeof module === 'string' && module.trim() !== '') {
    url = pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
  } else throw new InvalidArgumentError('threadWork needs a module URL or path');
  if (typeof exportName !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(exportName)) {
    throw new InvalidArgumentError(`threadWork export ${JSON.stringify(exportName)} is not an identifier`);
  }
  return Object.freeze({ kind: 'thread-work', module: url, export: exportName });
}

/** True for a {@link ThreadWork}. */
export function isThreadWork(value: unknown): value is ThreadWork<unknown, unknown> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'thread-work';
}
