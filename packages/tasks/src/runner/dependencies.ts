/**
 * Starting and stopping a task's services and connectors around a run:
 * services first (connectors may use them), stopped in reverse.
 *
 * @module
 */
import { ErgonError, ErrorCode, type Logger, toError } from '@ergon/core';
import type { Task } from '../task/task.js';

interface Startable {
  readonly name?: string;
  start?(signal?: AbortSignal): Promise<void>;
  stop?(): Promise<void>;
}

/**
 * Starts everything the task declared; on failure stops what started, and the one that failed,
 * and throws `CONNECTOR_ERROR`. The one that failed is stopped too: a start given up on (its
 * signal aborted by a SIGTERM at start-up, say) may still be opening a connection, which only its
 * `stop` (idempotent) closes; left open, it would keep the process alive after the run.
 */
export async function startDependencies(
  task: Task,
  signal: AbortSignal,
  logger: Logger,
): Promise<() => Promise<void>> {
  const all: [string, Startable][] = [
    ...Object.entries(task.services).map(([k, v]) => [`service '${k}'`, v] as [string, Startable]),
    ...Object.entries(task.connectors).map(([k, v]) => [`connector '${k}'`, v] as [string, Startable]),
  ];
  const started: [string, Startable][] = [];
  const stopAll = async () => {
    for (const [what, dep] of started.reverse()) {
      try {
        await dep.stop?.();
      } catch (error) {
        logger.warn(`task ${task.name}: stopping ${what} failed`, { error: toError(error).message });
      }
    }
  };
  for (const [what, dep] of all) {
    try {
      started.push([what, dep]);
      await dep.start?.(signal);
    } catch (error) {
      await stopAll();
      throw new ErgonError(
        ErrorCode.CONNECTOR_ERROR,
        `task ${task.name}: ${what} failed to start: ${toError(error).message}`,
        {
          cause: error,
        },
      );
    }
  }
  return () => stopAll();
}
