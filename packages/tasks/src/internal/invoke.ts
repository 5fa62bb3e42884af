/**
 * Calls a stage's work: a function in this thread (async model), or thread
 * work on the pool (threaded model).
 *
 * @module
 */
import { ErgonError, ErrorCode, type Transaction } from '@ergon/core';
import { type DurableWork, isDurableWork } from '../durable.js';
import type { Stage, StageContext, TaskContext } from '../task/context.js';
import { isThreadWork, type ThreadWork } from '../task/thread-work.js';
import type { ThreadPool } from '../threads/thread-pool.js';
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

/** What a stage context takes from its attempt: the number, and the signal (read when the work reads it). */
export type AttemptSignal = Pick<AttemptScope, 'attempt' | 'signal'>;

/** The context a stage function receives for one attempt. */
export function stageContext(context: TaskContext, stage: Stage, scope: AttemptSignal): StageContext {
  return new AttemptContext(context, stage, scope);
}

/**
 * A {@link StageContext} whose `signal` is made on first read. `signal` is
 * an own, enumerable accessor (one shared descriptor, so every instance has
 * the same shape), so a spread copy of the context carries the signal too.
 * An object literal with a getter cost a microsecond per attempt; the
 * spread of the task context it replaced, three.
 */
class AttemptContext implements StageContext {
  readonly task: string;
  readonly connectors: TaskContext['connectors'];
  readonly services: TaskContext['services'];
  readonly policies: TaskContext['policies'];
  readonly logger: TaskContext['logger'];
  readonly worker: TaskContext['worker'];
  readonly attempt: number;
  readonly stage: Stage;
  declare readonly signal: AbortSignal;
  readonly #scope: AttemptSignal;

  static readonly #signal: PropertyDescriptor = {
    get(this: AttemptContext): AbortSignal {
      return this.#scope.signal;
    },
    enumerable: true,
    configurable: true,
  };

  constructor(context: TaskContext, stage: Stage, scope: AttemptSignal) {
    this.task = context.task;
    this.connectors = context.connectors;
    this.services = context.services;
    this.policies = context.policies;
    this.logger = context.logger;
    this.worker = context.worker;
    this.attempt = scope.attempt;
    this.stage = stage;
    this.#scope = scope;
    Object.defineProperty(this, 'signal', AttemptContext.#signal);
  }
}

/**
 * An arrow function's head with no parameter or one plain identifier:
 * `() =>`, `async () =>`, `(tx) =>`, `tx =>`, `async tx =>` (whitespace
 * between the tokens, nothing else: no comment, rest, default or pattern).
 */
const ONE_PARAMETER_ARROW =
  /^\s*(?:async\s*)?(?:\(\s*(?:[A-Za-z_$][\w$]*\s*)?\)|(?:async\s+)?[A-Za-z_$][\w$]*)\s*=>/;

/**
 * True when `work` cannot read the stage context it is called with, so that
 * a caller may leave it out: an arrow function (arrows have no `arguments`
 * of their own) that declares no parameter or one plain identifier, read
 * from its source text once. Anything else may read it: a `function` or a
 * method (they have `arguments`), two or more parameters, a rest parameter,
 * a default or a pattern, and whatever has no source text (a bound or
 * native function, a proxy: `[native code]`).
 */
export function ignoresContext(work: (...args: never[]) => unknown): boolean {
  return ONE_PARAMETER_ARROW.test(Function.prototype.toString.call(work));
}

/** Runs `work(input)` for one attempt of `stage`: its result as it comes (a sync throw is the caller's to catch). */
export function invoke<A, R>(
  env: InvokeEnv,
  work: StageWork<A, R>,
  input: A,
  stage: Stage,
  scope: AttemptScope,
): Promise<R> | R {
  if (isThreadWork(work)) {
    if (!env.threads) throw new ErgonError(ErrorCode.INTERNAL, 'threaded work without a thread pool');
    return env.threads.run(
      work as ThreadWork<unknown, R>,
      input,
      { attempt: scope.attempt, stage },
      scope.signal,
    );
  }
  if (isDurableWork(work)) {
    const ctx = {
      get signal() {
        return scope.signal;
      },
    };
    return work.run(input as Transaction, ctx) as Promise<R>;
  }
  return work(input, stageContext(env.context, stage, scope)) as Promise<R> | R;
}
