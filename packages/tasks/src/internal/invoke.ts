/**
 * Calls a stage's work: a function in this thread (async model), or thread
 * work on the pool (threaded model).
 *
 * @module
 */
import { ErgonError, ErrorCode, type Transaction } from '@ergon/core';
import { type DurableWork, isDurableWork } from '../durable.js';
import type { ThreadPool } from '../threads/thread-pool.js';
import type { Stage, StageContext, TaskContext } from '../task/context.js';
import { isThreadWork, type ThreadWork } from '../task/thread-work.js';
import type { AttemptScope } from './stage.js';

/** A stage's work in either model. */
export type StageWork<A, R> =
  | ((input: A, ctx: StageContext) => unknown)
  | ThreadWork<A, R>
  | DurableWork<unknown, unknown>;

/** What invoking needs besides the work. */
export interface InvokeEnv {
  readonly context: TaskContext;
  readonly threads: ThreadPool | undefined;
}

/** The context a stage function receives for one attempt. */
export function stageContext(context: TaskContext, stage: Stage, scope: AttemptScope): StageContext {
  return { ...context, signal: scope.signal, attempt: scope.attempt, stage };
}

/** Runs `work(input)` for one attempt of `stage`. */
export async function invoke<A, R>(
  env: InvokeEnv,
  work: StageWork<A, R>,
  input: A,
  stage: Stage,
  scope: AttemptScope,
): Promise<R> {
  if (isThreadWork(work)) {
    if (!env.threads) throw new ErgonError(ErrorCode.INTERNAL, 'threaded work without a thread pool');
    return env.threads.run(
      work as ThreadWork<unknown, R>,
      input,
      { attempt: scope.attempt, stage },
      scope.signal,
    );
  }
  if (isDurableWork(work)) return (await work.run(input as Transaction, { signal: scope.signal })) as R;
  return (await work(input, stageContext(env.context, stage, scope))) as R;
}
