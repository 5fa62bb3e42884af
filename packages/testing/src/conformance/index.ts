/**
 * The storage conformance suite: one function every `ExecutionLog` runs
 * unchanged (`for each store: describeExecutionLogConformance(...)`), in the
 * manner of Hono's shared router cases. It checks the atomic primitives the
 * engine relies on, including under concurrency.
 *
 * @module
 */
import type { ExecutionLog } from '@ergon/core';
import { afterEach, beforeEach, describe } from 'vitest';
import { claimCases } from './claims.js';
import { flowCases } from './flows.js';
import { historyCases } from './history.js';
import { lifecycleCases } from './lifecycle.js';
import { signalCases } from './signals.js';
import type { SuiteContext } from './support.js';

/** How the suite makes and disposes of a store. */
export interface ConformanceOptions<S extends ExecutionLog = ExecutionLog> {
  /** Shown in test names. */
  readonly name: string;
  /** A fresh, empty store for one test (its own file, key prefix, ...). */
  readonly create: () => Promise<S> | S;
  /** Closes and removes what `create` made. Default: `store.close()`. */
  readonly teardown?: (store: S) => Promise<void> | void;
}

/**
 * Registers the conformance tests with vitest for one store. Call it at the
 * top level of a test file.
 */
export function describeExecutionLogConformance<S extends ExecutionLog>(
  options: ConformanceOptions<S>,
): void {
  describe(`ExecutionLog conformance: ${options.name}`, () => {
    const context = {} as SuiteContext;
    let store: S | undefined;
    beforeEach(async () => {
      store = await options.create();
      context.store = store;
    });
    afterEach(async () => {
      if (!store) return;
      if (options.teardown) await options.teardown(store);
      else await store.close();
      store = undefined;
    });
    flowCases(context);
    claimCases(context);
    historyCases(context);
    signalCases(context);
    lifecycleCases(context);
  });
}
