/**
 * The flow context in scope, so class-form steps (`this.chargePayment()`)
 * find the durable machinery without passing `ctx` around.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FlowContext } from '../context.js';

/** What is in scope while flow code or a step body runs. */
export interface FlowScope {
  readonly ctx: FlowContext;
  /** True inside a step body: nested step calls run directly, not durably. */
  readonly inStep: boolean;
}

// One storage per process, even with several copies of this package installed:
// a class-form step from one copy must see a flow run by another.
const KEY = Symbol.for('@ergon/executor/flow-scope');
const registry = globalThis as { [KEY]?: AsyncLocalStorage<FlowScope> };
registry[KEY] ??= new AsyncLocalStorage<FlowScope>();
const storage: AsyncLocalStorage<FlowScope> = registry[KEY];

/** Runs `fn` with `scope` current. */
export function runWithScope<T>(scope: FlowScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the flow code or step running now, if any. */
export function currentScope(): FlowScope | undefined {
  return storage.getStore();
}
