/**
 * Flow and step definitions, the functional form (DESIGN §2.1). The class
 * form in `decorators.ts` builds the same definitions.
 *
 * @module
 */
import { type Duration, InvalidArgumentError, RetryPolicy, toMillis } from '@ergon/core';
import type { FlowContext } from './context.js';

/** What a step attempt receives besides its arguments. */
export interface StepScope {
  /** Fires on the attempt's timeout and on cancellation of the flow. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Stable across attempts and replays: `flowId/key`. Hand it to external systems. */
  readonly idempotencyKey: string;
  /** The flow this attempt belongs to. */
  readonly flowId: string;
  /** The step's history key, `name#n`. */
  readonly key: string;
}

/** Options of a step or inline run. */
export interface StepOptions {
  /** Retry policy; default the flow's policy, else {@link RetryPolicy.STANDARD}. */
  readonly retry?: RetryPolicy;
  /** Per-attempt timeout; default the policy's timeout, else none. */
  readonly timeout?: Duration;
}

/** A named, reusable step. Create with {@link step}. */
export interface StepDefinition<A extends unknown[], R> {
  /** Marks a step definition. */
  readonly kind: 'step';
  /** The step name; its history keys are `name#n`. */
  readonly name: string;
  /** The step's function: the arguments given to `ctx.step`, then the attempt's scope. */
  readonly fn: (...args: [...A, StepScope]) => Promise<R> | R;
  /** Its retry policy and timeout, resolved when defined. */
  readonly options: NormalizedStepOptions;
}

/** Step options with durations resolved. */
export interface NormalizedStepOptions {
  /** The step's retry policy, when one was given. */
  readonly retry?: RetryPolicy | undefined;
  /** The step's timeout per attempt in ms, when one was given. */
  readonly timeoutMs?: number | undefined;
}

/** Options of a flow definition. */
export interface FlowOptions<I = unknown> {
  /** Default queue for new instances. Default `'default'`. */
  readonly queue?: string;
  /** Default retry policy for the flow's steps. */
  readonly retry?: RetryPolicy;
  /**
   * The version of this code (any name: `'2'`, `'2026-03'`). Each instance records the version it
   * first ran under; a worker runs only the recorded versions it serves (its `versions` option,
   * by default this one), so a deploy never resumes a flow on code that cannot replay it.
   */
  readonly version?: string;
  /**
   * Flow control: each new instance's concurrency key, from its input (a tenant id, say). Flows
   * of one key are limited by `concurrencyLimit` (or the queue's `keyConcurrency`) and served
   * fairly against other keys. A schedule call's own `concurrencyKey` wins.
   */
  readonly concurrencyKey?: (input: I) => string;
  /** At most this many instances with one key run at once (1: one at a time per key). */
  readonly concurrencyLimit?: number;
}

/** A flow type. Create with {@link flow} (or `flowClass` for the class form). */
export interface FlowDefinition<I, O> {
  /** Marks a flow definition. */
  readonly kind: 'flow';
  /** The registered type name; stored with every instance. */
  readonly name: string;
  /** The flow's function, run from the top on every run of the flow. */
  readonly run: (ctx: FlowContext, input: I) => Promise<O>;
  /** Its options, resolved when defined. */
  readonly options: {
    /** The default queue of new instances. */
    readonly queue: string;
    /** The default retry policy of its steps. */
    readonly retry?: RetryPolicy | undefined;
    /** The version of this code, recorded by each instance when it first runs. */
    readonly version?: string | undefined;
    /** Each new instance's concurrency key, from its input (flow control). */
    readonly concurrencyKey?: ((input: I) => string) | undefined;
    /** The running limit per concurrency key of its instances. */
    readonly concurrencyLimit?: number | undefined;
  };
  /** Turns the stored input back into the value `run` expects (class form). */
  readonly reviveInput?: (input: unknown) => I;
  /** Turns an input into the plain value to store (class form). */
  readonly storeInput?: (input: I) => unknown;
  /** True when steps and `flowContext()` find the context through async scope (class form). */
  readonly usesScope?: boolean;
}

/** Any flow definition, for registries. */
// biome-ignore lint/suspicious/noExplicitAny: registries hold flows of every input and output type.
export type AnyFlowDefinition = FlowDefinition<any, any>;

/** The input type of a flow definition. */
export type FlowInput<F> = F extends FlowDefinition<infer I, unknown> ? I : never;
/** The output type of a flow definition. */
export type FlowOutput<F> = F extends FlowDefinition<never, infer O> ? O : never;

const NAME_PATTERN = /^[A-Za-z0-9_.:@/-]{1,200}$/;

/** Checks a flow, step, queue or signal name. */
export function validateName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(name)} is not valid: use 1–200 characters from A–Z a–z 0–9 _ . : @ / -`,
    );
  }
  return name;
}

/** Resolves step options once, at definition time, so mistakes surface early. */
export function normalizeStepOptions(options: StepOptions = {}): NormalizedStepOptions {
  if (options.retry !== undefined && !(options.retry instanceof RetryPolicy)) {
    throw new InvalidArgumentError(
      'step retry must be a RetryPolicy (e.g. RetryPolicy.STANDARD or new RetryPolicy({...}))',
    );
  }
  const timeoutMs = options.timeout === undefined ? undefined : toMillis(options.timeout, 'step timeout');
  if (timeoutMs !== undefined && timeoutMs <= 0) throw new InvalidArgumentError('step timeout must be > 0');
  return Object.freeze({ retry: options.retry, timeoutMs });
}

/** A function `step()` can wrap: its own parameter types are inferred from it. */
// biome-ignore lint/suspicious/noExplicitAny: the function's own parameter types are inferred from it.
export type StepFunction = (...args: any[]) => unknown;

/**
 * The arguments a step takes: its function's parameters without a trailing
 * scope (a parameter typed `StepScope`, or left unannotated).
 */
export type StepArgs<P extends unknown[]> = P extends [...infer A, infer Last]
  ? unknown extends Last
    ? A
    : [Last] extends [StepScope]
      ? A
      : P
  : P;

/**
 * Defines a reusable step. The function receives the arguments given to
 * `ctx.step(def, ...args)` followed by a {@link StepScope} (which it may ignore).
 *
 * Annotate the scope (`s: StepScope`) to have it typed; an unannotated last
 * parameter is taken to be the scope too.
 *
 * ```ts
 * const charge = step('charge-payment', async (order: Order, s: StepScope) => pay(order, s.idempotencyKey),
 *                     { retry: RetryPolicy.STANDARD, timeout: '10s' });
 * ```
 */
export function step<F extends StepFunction>(
  name: string,
  fn: F,
  options?: StepOptions,
): StepDefinition<StepArgs<Parameters<F>>, Awaited<ReturnType<F>>> {
  validateName(name, 'step name');
  if (typeof fn !== 'function') throw new InvalidArgumentError(`step '${name}' needs a function`);
  return Object.freeze({
    kind: 'step',
    name,
    fn: fn as unknown as (...args: [...StepArgs<Parameters<F>>, StepScope]) => Awaited<ReturnType<F>>,
    options: normalizeStepOptions(options),
  });
}

/**
 * Defines a flow type. Its function must be deterministic: every side effect
 * and every source of time or randomness goes through `ctx`.
 *
 * ```ts
 * const processOrder = flow('process-order', async (ctx, order: Order) => { ... });
 * ```
 */
export function flow<I, O>(
  name: string,
  run: (ctx: FlowContext, input: I) => Promise<O>,
  options: FlowOptions<NoInfer<I>> = {},
): FlowDefinition<I, O> {
  validateName(name, 'flow name');
  if (typeof run !== 'function') throw new InvalidArgumentError(`flow '${name}' needs a function`);
  const queue = validateName(options.queue ?? 'default', 'queue name');
  if (options.retry !== undefined && !(options.retry instanceof RetryPolicy)) {
    throw new InvalidArgumentError(`flow '${name}' retry must be a RetryPolicy`);
  }
  if (options.concurrencyKey !== undefined && typeof options.concurrencyKey !== 'function') {
    throw new InvalidArgumentError(`flow '${name}' concurrencyKey must be a function of the input`);
  }
  const { concurrencyKey, concurrencyLimit } = options;
  const version = options.version === undefined ? undefined : validateName(options.version, 'flow version');
  return Object.freeze({
    kind: 'flow',
    name,
    run,
    options: Object.freeze({ queue, retry: options.retry, concurrencyKey, concurrencyLimit, version }),
  });
}
