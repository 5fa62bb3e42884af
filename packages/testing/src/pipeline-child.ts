/**
 * Imported from `@ergon/testing/pipeline-child` (no vitest API, so a plain
 * Node.js child process can load it): the side effect the steps of a SIGKILL
 * pipeline test's flows make. Each run of a step is logged (so the test sees
 * what the kills repeated), and its effect is written once, as a file named
 * by the step's idempotency key, as a real side effect given that key would.
 *
 * ```js
 * // test/fixtures/pipeline-worker.mjs
 * import { recordFileEffect } from '@ergon/testing/pipeline-child';
 * const effect = (scope) => recordFileEffect(config, scope.idempotencyKey);
 * const pipelineFlow = flow('pipeline', async (ctx, payload) => {
 *   await ctx.run('a', effect);
 *   await ctx.run('b', effect);
 *   return payload.n;
 * });
 * ```
 *
 * @module
 */
import { appendFileSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';

/** Where a pipeline's effects go. */
export interface FileEffectPaths {
  /** A log with one line per step run (the idempotency key). */
  readonly attempts: string;
  /** A directory with one file per effect (`readFileEffects` reads it back). */
  readonly effects: string;
}

/** Logs a run of the step `idempotencyKey` and records its effect, once whatever the number of runs. */
export function recordFileEffect(paths: FileEffectPaths, idempotencyKey: string): void {
  appendFileSync(paths.attempts, `${idempotencyKey}\n`);
  try {
    closeSync(openSync(join(paths.effects, encodeURIComponent(idempotencyKey)), 'wx'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/**
 * Once a SIGTERM came, prints to stderr what still keeps the process alive if it has not exited
 * `afterMs` later (the resources Node.js reports), so a graceful stop that hangs says why. The
 * timer does not itself hold the process.
 */
export function reportHangAfterSigterm(afterMs = 15_000): void {
  process.once('SIGTERM', () => {
    setTimeout(() => {
      const resources = process.getActiveResourcesInfo().join(', ');
      process.stderr.write(`pid ${process.pid}: still running ${afterMs} ms after SIGTERM; holding it: ${resources}\n`);
    }, afterMs).unref();
  });
}
