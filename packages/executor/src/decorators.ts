/**
 * The class form (the seed's `#[flow]` / `#[step]`), with standard
 * decorators: a class whose fields are the flow's input, one method marked
 * `@Flow()`, methods marked `@Step()`. Inside the flow, `this.chargePayment()`
 * goes through the durable step machinery; elsewhere it is a plain call.
 *
 * @module
 */
import { InvalidArgumentError, type RetryPolicy } from '@ergon/core';
import type { FlowContext } from './context.js';
import {
  type AnyFlowDefinition,
  type FlowDefinition,
  normalizeStepOptions,
  type StepOptions,
  validateName,
} from './definitions.js';
import { currentScope } from './internal/scope.js';

const FLOW_MARK = Symbol.for('@ergon/executor/flow-method');

interface FlowMark {
  readonly method: string | symbol;
  readonly name?: string | undefined;
  readonly queue?: string | undefined;
  readonly retry?: RetryPolicy | undefined;
  readonly version?: string | undefined;
}

/** Options of {@link Flow}. */
export interface FlowDecoratorOptions {
  /** Flow type name. Default the class name. */
  readonly name?: string;
  /** Default queue. */
  readonly queue?: string;
  /** Default retry policy of the flow's steps. */
  readonly retry?: RetryPolicy;
  /** The version of this code, recorded by each instance (see `FlowOptions.version`). */
  readonly version?: string;
}

/** Options of {@link Step}. */
export interface StepDecoratorOptions extends StepOptions {
  /** Step name in history. Default the method name. */
  readonly name?: string;
}

/** A method `@Flow()` and `@Step()` decorate: any signature. */
// biome-ignore lint/suspicious/noExplicitAny: decorators apply to methods of any signature.
export type DecoratedMethod = (this: any, ...args: any[]) => any;

/** Marks the method that is the flow's body. One per class. */
export function Flow(options: FlowDecoratorOptions = {}) {
  return <M extends DecoratedMethod>(method: M, context: ClassMethodDecoratorContext): M => {
    if (context.kind !== 'method') throw new InvalidArgumentError('@Flow() applies to methods');
    Object.defineProperty(method, FLOW_MARK, {
      value: {
        method: context.name,
        name: options.name,
        queue: options.queue,
        retry: options.retry,
        version: options.version === undefined ? undefined : validateName(options.version, 'flow version'),
      } satisfies FlowMark,
    });
    return method;
  };
}

/** Marks a method as a durable step: recorded once, replayed afterwards, retried by its policy. */
export function Step(options: StepDecoratorOptions = {}) {
  const normalized = normalizeStepOptions(options);
  return <M extends DecoratedMethod>(method: M, context: ClassMethodDecoratorContext): M => {
    if (context.kind !== 'method') throw new InvalidArgumentError('@Step() applies to methods');
    const name = validateName(options.name ?? String(context.name), 'step name');
    function durable(this: unknown, ...args: unknown[]): unknown {
      const scope = currentScope();
      if (!scope || scope.inStep) return method.apply(this, args);
      return (scope.ctx as FlowContext & StepRunner).runNamedStep(
        name,
        () => method.apply(this, args),
        normalized,
      );
    }
    Object.defineProperty(durable, 'name', { value: method.name });
    return durable as M;
  };
}

/** Implemented by the engine's context; used by {@link Step}. */
export interface StepRunner {
  runNamedStep<R>(
    name: string,
    fn: () => Promise<R> | R,
    options: ReturnType<typeof normalizeStepOptions>,
  ): Promise<R>;
}

/** The flow context of the flow running now. Use it in class-form flows for sleep, signals and children. */
export function flowContext(): FlowContext {
  const scope = currentScope();
  if (!scope) throw new InvalidArgumentError('flowContext() is only available while a flow runs');
  return scope.ctx;
}

/** A class whose instances carry a `@Flow()` method (any constructor signature). */
// biome-ignore lint/suspicious/noExplicitAny: any class constructor.
export type FlowClass = abstract new (...args: any[]) => object;

/** Something that names a flow: a definition, or a class with a `@Flow()` method. */
export type FlowSource = AnyFlowDefinition | FlowClass;

const definitions = new WeakMap<FlowClass, AnyFlowDefinition>();

/**
 * The flow definition of a decorated class. Its input is the instance's own
 * fields; a worker rebuilds the instance (same prototype) before calling the
 * `@Flow()` method. Pass `method` to get the output type inferred.
 */
export function flowClass<C extends FlowClass, K extends keyof InstanceType<C> & string>(
  cls: C,
  method?: K,
): FlowDefinition<
  InstanceType<C>,
  InstanceType<C>[K] extends (...args: never[]) => infer R ? Awaited<R> : unknown
> {
  const cached = definitions.get(cls);
  if (cached && method === undefined) return cached;
  const mark = findFlowMark(cls, method);
  const name = validateName(mark.name ?? cls.name, 'flow name');
  const definition: AnyFlowDefinition = Object.freeze({
    kind: 'flow' as const,
    name,
    options: Object.freeze({
      queue: validateName(mark.queue ?? 'default', 'queue name'),
      retry: mark.retry,
      version: mark.version,
    }),
    run: (_ctx: FlowContext, instance: Record<string | symbol, DecoratedMethod>) => {
      const body = instance[mark.method];
      if (typeof body !== 'function')
        throw new InvalidArgumentError(`${name}.${String(mark.method)} is not a method`);
      return Promise.resolve(body.call(instance));
    },
    usesScope: true,
    reviveInput: (input: unknown) => Object.assign(Object.create(cls.prototype) as object, input),
    storeInput: (instance: object) => ({ ...instance }),
  });
  definitions.set(cls, definition);
  // biome-ignore lint/suspicious/noExplicitAny: the generic signature above carries the types.
  return definition as any;
}

/**
 * A flow definition for a decorated class entered through `entry`, as in the
 * seed's `executor.execute(|f| f.process())`: the instance's fields are the
 * flow's input, and `entry(instance)` is its body. Register the result with a
 * worker to resume such flows in another process:
 * `new Worker({ store, flows: [flowClassWithEntry(OrderFlow, (f) => f.process())] })`.
 * Its name is the class's flow name (the `@Flow()` name, else the class name).
 */
export function flowClassWithEntry<T extends object, O>(
  cls: abstract new (...args: never[]) => T,
  entry: (instance: T) => Promise<O>,
): FlowDefinition<T, O> {
  const base = flowClass(cls as unknown as FlowClass) as unknown as FlowDefinition<T, O>;
  return Object.freeze({ ...base, run: (_ctx: FlowContext, instance: T) => entry(instance) });
}

/** Resolves a definition or decorated class to a definition. */
export function toFlowDefinition(source: FlowSource): AnyFlowDefinition {
  if (typeof source === 'function') return flowClass(source);
  if (source && (source as AnyFlowDefinition).kind === 'flow') return source as AnyFlowDefinition;
  throw new InvalidArgumentError(
    'expected a flow definition (flow(name, fn)) or a class with a @Flow() method',
  );
}

function findFlowMark(cls: FlowClass, method?: string): FlowMark {
  for (let proto = cls.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Reflect.ownKeys(proto)) {
      if (method !== undefined && key !== method) continue;
      const value = Object.getOwnPropertyDescriptor(proto, key)?.value as
        | { [FLOW_MARK]?: FlowMark }
        | undefined;
      const mark = typeof value === 'function' ? value[FLOW_MARK] : undefined;
      if (mark) return mark;
    }
  }
  if (method !== undefined) {
    // An explicit entry method without @Flow(): still usable.
    return { method };
  }
  throw new InvalidArgumentError(`class ${cls.name} has no @Flow() method: mark its flow body with @Flow()`);
}
