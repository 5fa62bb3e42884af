/**
 * The storage conformance suite: one function every `ExecutionLog` runs
 * unchanged (`for each store: describeExecutionLogConformance(...)`), in the
 * manner of Hono's shared router cases. It checks the atomic primitives the
 * engine relies on, including under concurrency, through the runtime wrapper
 * the engine always puts around a store. A store without an optional
 * capability names it in `skip` with a reason, so the gap is visible.
 *
 * @module
 */
import {
  type ExecutionLog,
  type RuntimeExecutionLog,
  runtimeStore,
  type StoreCapabilities,
} from '@ergon/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { abandonedCases } from './abandoned.js';
import { badInputCases } from './bad-input.js';
import { batchCases } from './batch.js';
import { claimCases } from './claims.js';
import { createClaimCases } from './create-claim.js';
import { type DamageHooks, damagedCases } from './damaged.js';
import { eventCases } from './events.js';
import { finishClaimCases } from './finish-claims.js';
import { flowControlCases } from './flow-control.js';
import { flowCases } from './flows.js';
import { handOffCases } from './hand-off.js';
import { historyCases } from './history.js';
import { importCases } from './import-flow.js';
import { lifecycleCases } from './lifecycle.js';
import { progressCases } from './progress.js';
import { scheduleCases } from './schedules.js';
import { signalCases } from './signals.js';
import type { SuiteContext } from './support.js';
import { workerCases } from './workers.js';

/** An optional capability a store lacks, and why. */
export interface StoreConformanceSkip {
  /** The capability whose cases are skipped. */
  readonly capability: keyof StoreCapabilities;
  /** Why the store cannot have it; shown in the skipped suite's name. */
  readonly reason: string;
}

/** How the suite makes and disposes of a store. */
export interface ConformanceOptions<S extends ExecutionLog = ExecutionLog> {
  /** Shown in test names. */
  readonly name: string;
  /** A fresh, empty store for one test (its own file, key prefix, ...). */
  readonly create: () => Promise<S> | S;
  /** Removes what `create` made (files, keys). The suite has closed the store already. */
  readonly teardown?: (store: S) => Promise<void> | void;
  /** Capabilities the store lacks, each with its reason. */
  readonly skip?: readonly StoreConformanceSkip[];
  /**
   * How the store's test damages its data at rest, for the cases on damaged data; or why it
   * cannot (a store with nothing at rest). Without either, those cases are skipped, loudly.
   */
  readonly damage?:
    | DamageHooks<S>
    | {
        /** Why the store's data cannot be damaged at rest. */
        readonly skip: string;
      };
}

/** Stands in for missing hooks in a skipped suite (never called). */
const NO_DAMAGE: DamageHooks = {
  history: () => {
    throw new Error('no damage hooks');
  },
  waits: () => {
    throw new Error('no damage hooks');
  },
};

/**
 * The optional capabilities of behaviour and their cases. (`claimOnCreate` is not among them: it
 * changes how a create's claim is made, not what a caller sees; its cases run on every store.)
 */
const CAPABILITY_CASES: Readonly<
  Record<Exclude<keyof StoreCapabilities, 'claimOnCreate'>, (ctx: SuiteContext) => void>
> = {
  events: eventCases,
  finishClaims: finishClaimCases,
  flowControl: flowControlCases,
  handOff: handOffCases,
};

/**
 * Registers the conformance tests with vitest for one store. Call it at the
 * top level of a test file.
 */
export function describeExecutionLogConformance<S extends ExecutionLog>(
  options: ConformanceOptions<S>,
): void {
  const skipped = new Map((options.skip ?? []).map((s) => [s.capability, s.reason]));
  describe(`ExecutionLog conformance: ${options.name}`, () => {
    const context = {} as SuiteContext;
    let store: S | undefined;
    let runtime: RuntimeExecutionLog | undefined;
    beforeEach(async () => {
      store = await options.create();
      runtime = runtimeStore(store);
      context.store = runtime;
    });
    afterEach(async () => {
      if (!store || !runtime) return;
      await runtime.close();
      await options.teardown?.(store);
      store = undefined;
      runtime = undefined;
    });
    it('declares its capabilities as they are, and names a reason for each it lacks', () => {
      const declared = context.store.inner.capabilities;
      for (const capability of Object.keys(CAPABILITY_CASES) as (keyof typeof CAPABILITY_CASES)[]) {
        const has = declared?.[capability] === true;
        expect(has, `capability ${capability}: declared ${has}, skip reason ${skipped.get(capability)}`).toBe(
          !skipped.has(capability),
        );
      }
      expect(typeof context.store.inner.subscribe === 'function').toBe(declared?.events === true);
    });
    flowCases(context);
    claimCases(context);
    historyCases(context);
    signalCases(context);
    lifecycleCases(context);
    progressCases(context);
    batchCases(context);
    createClaimCases(context);
    abandonedCases(context);
    badInputCases(context);
    workerCases(context);
    scheduleCases(context);
    importCases(context);
    const damage = options.damage;
    if (damage === undefined) {
      describe.skip('damaged data (skipped: the store gave no damage hooks)', () => {
        damagedCases(context, NO_DAMAGE);
      });
    } else if ('skip' in damage) {
      describe.skip(`damaged data (skipped: ${damage.skip})`, () => damagedCases(context, NO_DAMAGE));
    } else {
      damagedCases(context, damage);
    }
    for (const [capability, cases] of Object.entries(CAPABILITY_CASES) as [
      keyof StoreCapabilities,
      typeof eventCases,
    ][]) {
      const reason = skipped.get(capability);
      if (reason === undefined) cases(context);
      else describe.skip(`capability ${capability} (skipped: ${reason})`, () => cases(context));
    }
  });
}
