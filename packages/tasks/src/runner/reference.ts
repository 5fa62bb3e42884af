/**
 * Tasks named by module, for code that cannot receive the task object:
 * child processes of a pool, and the `ergon` CLI.
 *
 * @module
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCode, InvalidArgumentError } from '@ergon/core';
import { isTask, type Task } from '../task/task.js';

/** Where a task is defined: an ES module and the name of its export. */
export interface TaskReference {
  /** The module: a `file:` URL, a URL object, or a path (relative to the working directory). */
  readonly module: string | URL;
  /** The export holding the task. Default `'default'`. */
  readonly export?: string;
}

/** True for a {@link TaskReference}. */
export function isTaskReference(value: unknown): value is TaskReference {
  const module = (value as { module?: unknown } | null)?.module;
  return typeof value === 'object' && value !== null && (typeof module === 'string' || module instanceof URL);
}

/** The module of a reference as a `file:` (or other) URL string. */
export function moduleUrl(reference: TaskReference): string {
  const { module } = reference;
  if (module instanceof URL) return module.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

/**
 * Imports the module and returns the task it exports.
 *
 * @throws InvalidArgumentError when the export is missing or not a task.
 */
export async function loadTask(reference: TaskReference): Promise<Task> {
  const url = moduleUrl(reference);
  const name = reference.export ?? 'default';
  const module = (await import(url)) as Record<string, unknown>;
  const task = module[name];
  if (!isTask(task)) {
    throw new InvalidArgumentError(
      `${url} has no task export '${name}' (exports: ${Object.keys(module).join(', ') || 'none'}); ` +
        'export the value returned by consumer(), producer() or hybrid()',
      { code: ErrorCode.INVALID_ARGUMENT },
    );
  }
  return task;
}
