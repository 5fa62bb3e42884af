/**
 * Loading the user's task: a module (path relative to the working
 * directory) exporting tasks made by `consumer()`, `producer()` or `hybrid()`.
 *
 * @module
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Task } from '@ergon/tasks';
import { CliError } from './errors.js';
import { oneLine } from './format.js';

/** A task and where it came from (what a process pool needs to load it again). */
export interface LoadedTask {
  readonly task: Task;
  /** The module's `file:` URL. */
  readonly module: string;
  /** The export holding the task. */
  readonly exportName: string;
}

/**
 * Imports `modulePath` and picks its task: the export `exportName` when
 * given; otherwise the default export if it is a task, or the only task export.
 *
 * @throws CliError when the file is missing or fails to load, when it exports
 *   no task, when `exportName` is not a task, or when the choice is ambiguous.
 */
export async function loadTaskModule(modulePath: string, exportName?: string): Promise<LoadedTask> {
  const file = resolve(modulePath);
  if (!statSync(file, { throwIfNoEntry: false })?.isFile()) {
    throw new CliError(`cannot load a task: no file ${modulePath} (paths are relative to ${process.cwd()})`);
  }
  const module = pathToFileURL(file).href;
  let exports: Record<string, unknown>;
  try {
    exports = (await import(module)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new CliError(`cannot load tasks from ${modulePath}: ${oneLine(reason)}`, { cause: error });
  }
  // Loaded with the task, not at start-up: the CLI's other commands never need @ergon/tasks.
  const { isTask } = await import('@ergon/tasks');
  const tasks = Object.entries(exports).filter(([, value]) => isTask(value)) as [string, Task][];
  const names = tasks.map(([name]) => `'${name}'`).join(', ');
  if (exportName !== undefined) {
    const task = exports[exportName];
    if (!isTask(task)) {
      throw new CliError(
        `${modulePath} has no task export '${exportName}'` +
          (tasks.length > 0 ? `: its tasks are ${names}` : ': it exports no task'),
      );
    }
    return { task, module, exportName };
  }
  if (tasks.length === 0) {
    throw new CliError(
      `${modulePath} exports no task: export the value returned by consumer(), producer() or hybrid()`,
    );
  }
  const chosen = isTask(exports.default)
    ? ['default', exports.default]
    : tasks.length === 1
      ? tasks[0]
      : undefined;
  if (!chosen) throw new CliError(`${modulePath} exports several tasks (${names}): choose one with --export`);
  return { task: chosen[1] as Task, module, exportName: chosen[0] as string };
}
