/**
 * What every task kind shares: a name, its declared dependencies, its
 * concurrency model, and the checks made when it is defined.
 *
 * @module
 */
import { ErrorCode, InvalidArgumentError } from '@ergon/core';
import type { ConnectorMap, PolicyMap, ServiceMap } from './context.js';
import { isDurableWork } from '../durable.js';
import { isThreadWork } from './thread-work.js';

/** `async`: a semaphore bounds concurrent transactions. `threaded`: CPU-bound work runs on a worker-thread pool. */
export type ConcurrencyModel = 'async' | 'threaded';

/** The three task kinds. */
export type TaskKind = 'consumer' | 'producer' | 'hybrid';

/**
 * A function type checked bivariantly in its parameters (it originates in a
 * method declaration), so a task with specific payload types still fits the
 * general `Task` type that runners accept.
 */
export type Handler<A extends unknown[], R> = {
  /** The handler's call signature. */
  handler(...args: A): R;
}['handler'];

/** The declaration part of every task's options. */
export interface TaskDeclaration<C extends ConnectorMap, S extends ServiceMap, P extends PolicyMap> {
  /** Stable name: 1–200 of `A–Z a–z 0–9 _ . : @ / -`. */
  readonly name: string;
  /** Named connectors, received typed as `ctx.connectors`. */
  readonly connectors: C;
  /** Named services, received typed as `ctx.services`; started before and stopped after a run. */
  readonly services?: S;
  /** Named policies, received typed as `ctx.policies`; `consumer`/`producer` configure the runner. */
  readonly policies?: P;
  /** Default: `threaded` when the work is a `threadWork(...)`, else `async`. Must agree with the work. */
  readonly model?: ConcurrencyModel;
}

/** What every task has. Tasks are frozen. */
export interface TaskBase<C extends ConnectorMap, S extends ServiceMap, P extends PolicyMap> {
  /** Which kind of task this is. */
  readonly kind: TaskKind;
  /** The task's stable name (used in logs, spans and metrics). */
  readonly name: string;
  /** How its main work runs: in this thread, or on worker threads. */
  readonly model: ConcurrencyModel;
  /** The declared connectors. */
  readonly connectors: C;
  /** The declared services (empty when none). */
  readonly services: S;
  /** The declared policies (empty when none). */
  readonly policies: P;
}

/** Throws `INVALID_ARGUMENT` about task `name`. */
export function invalidTask(name: unknown, message: string): never {
  throw new InvalidArgumentError(`task ${JSON.stringify(name)}: ${message}`, {
    code: ErrorCode.INVALID_ARGUMENT,
  });
}

const NAME = /^[A-Za-z0-9_.:@/-]{1,200}$/;

/** Checks the declaration and resolves the model from the main work (a function or thread work). */
export function checkDeclaration<C extends ConnectorMap, S extends ServiceMap, P extends PolicyMap>(
  kind: TaskKind,
  options: TaskDeclaration<C, S, P>,
  work: { field: string; value: unknown },
): TaskBase<C, S, P> {
  if (typeof options !== 'object' || options === null)
    invalidTask(undefined, `${kind}() needs an options object`);
  const { name } = options;
  if (typeof name !== 'string' || !NAME.test(name)) {
    invalidTask(name, 'name must be 1–200 characters from A–Z a–z 0–9 _ . : @ / -');
  }
  const record = (value: unknown, what: string): object => {
    if (value === undefined) return {};
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      invalidTask(name, `${what} must be an object`);
    return value as object;
  };
  const connectors = record(options.connectors, 'connectors') as C;
  for (const [key, c] of Object.entries(connectors)) {
    if (typeof c !== 'object' || c === null)
      invalidTask(name, `connector '${key}' is not a Connector object`);
  }
  const services = record(options.services, 'services') as S;
  for (const [key, s] of Object.entries(services)) {
    const ok =
      typeof s?.start === 'function' && typeof s.stop === 'function' && typeof s.health === 'function';
    if (!ok) invalidTask(name, `service '${key}' must have start(), stop() and health()`);
  }
  const policies = record(options.policies, 'policies') as P;
  const threaded = isThreadWork(work.value);
  if (!threaded && typeof work.value !== 'function' && !isDurableWork(work.value)) {
    invalidTask(
      name,
      `${work.field} must be a function or durable(flow, ...), or threadWork(module, export) for the threaded model`,
    );
  }
  const model = options.model ?? (threaded ? 'threaded' : 'async');
  if (model !== 'async' && model !== 'threaded') invalidTask(name, `model must be 'async' or 'threaded'`);
  if ((model === 'threaded') !== threaded) {
    invalidTask(
      name,
      model === 'threaded'
        ? `the threaded model runs ${work.field} on worker threads: give threadWork(module, export), not a function`
        : `${work.field} is thread work, so the model must be 'threaded'`,
    );
  }
  return { kind, name, model, connectors, services, policies };
}

/** The connector under `key`, checked to have the methods the task needs. */
export function requireConnector(
  task: TaskBase<ConnectorMap, ServiceMap, PolicyMap>,
  role: 'source' | 'target',
  key: unknown,
): string {
  const connector = typeof key === 'string' ? task.connectors[key] : undefined;
  if (!connector) {
    invalidTask(
      task.name,
      `${role} connector ${JSON.stringify(key)} is not among connectors (${Object.keys(task.connectors).join(', ') || 'none'})`,
    );
  }
  const method = role === 'source' ? 'fetchTransactions' : 'dispatchTransactions';
  if (typeof connector[method] !== 'function') {
    invalidTask(task.name, `${role} connector '${String(key)}' has no ${method}()`);
  }
  return key as string;
}

/** The policy under `key` if it is an instance of `cls`, else `fallback`; a wrong type is an error. */
export function policyOf<T>(
  task: TaskBase<ConnectorMap, ServiceMap, PolicyMap>,
  key: string,
  cls: abstract new (...args: never[]) => T,
  fallback: T,
): T {
  const value = task.policies[key];
  if (value === undefined) return fallback;
  if (!(value instanceof cls)) invalidTask(task.name, `policies.${key} must be a ${cls.name}`);
  return value as T;
}

/** Checks an optional handler. */
export function optionalFunction(name: string, field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') invalidTask(name, `${field} must be a function`);
}
