/**
 * The connector conformance suite (DESIGN §3): one function every connector
 * package runs unchanged against its real broker, as every store runs the
 * storage suite. It checks the semantics the task runner and the durable
 * bridge rely on: bounded fetches and in-flight limits, final acks, requeues
 * and dead letters with reasons, stable ids across redeliveries, confirmed
 * dispatches, metadata and trace context in headers, poison messages, a
 * SIGKILLed consumer, dropped connections, and graceful stops.
 *
 * A connector that lacks a capability says so with a reason, and those tests
 * show as skipped with it (Hono's router suite is the model), never as passed.
 *
 * @module
 */
import { afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { connectionCases } from './connection.js';
import { crashCases } from './crash.js';
import { dispatchCases } from './dispatch.js';
import { fetchCases } from './fetch.js';
import type {
  ConformanceConnector,
  ConformanceSkip,
  ConnectorCapabilities,
  ConnectorHarness,
} from './harness.js';
import { lifecycleCases } from './lifecycle.js';
import { poisonCases } from './poison.js';
import { caseRegistry } from './registry.js';
import { settleCases } from './settle.js';
import { type ConnectorSuiteContext, runId } from './support.js';

/** How the suite makes, describes and disposes of a connector under test. */
export interface ConnectorConformanceOptions<C extends ConformanceConnector = ConformanceConnector> {
  /** Shown in test names. */
  readonly name: string;
  /**
   * A fresh connector and its harness for one test, on a queue (stream,
   * vhost) of that test's own, empty. The suite starts what it uses.
   */
  readonly create: () => Promise<ConnectorHarness<C>> | ConnectorHarness<C>;
  /**
   * Removes what `create` made (queues, exchanges, streams, connections).
   * Runs after the suite stopped every connector it started, even when the test failed.
   */
  readonly teardown?: (harness: ConnectorHarness<C>) => Promise<void> | void;
  /** Every capability, supported or not (with the reason). */
  readonly capabilities: ConnectorCapabilities;
  /** Single tests skipped by title, each with a reason. Prefer a capability. */
  readonly skip?: readonly ConformanceSkip[];
}

/**
 * Registers the connector conformance tests with vitest. Call it at the top
 * level of a test file; `create` is called once per test.
 *
 * ```ts
 * describeConnectorConformance({
 *   name: 'amqp',
 *   create: () => amqpHarness(),
 *   teardown: (harness) => harness.dispose(),
 *   capabilities: { findTransaction: { unsupported: 'AMQP cannot read a queued message without taking it' }, ... },
 * });
 * ```
 *
 * @throws Error at registration when a capability is not stated or a reason is
 *   empty; the suite fails before its first case when a skip names a test that
 *   does not exist.
 */
export function describeConnectorConformance<C extends ConformanceConnector>(
  options: ConnectorConformanceOptions<C>,
): void {
  const cases = caseRegistry(options.capabilities, options.skip ?? []);
  describe(`Connector conformance: ${options.name}`, () => {
    const context = { started: [] } as unknown as ConnectorSuiteContext;
    let harness: ConnectorHarness<C> | undefined;
    beforeEach(async () => {
      harness = await options.create();
      if (!Number.isInteger(harness.maxInFlight) || harness.maxInFlight < 4 || harness.maxInFlight > 16) {
        throw new Error(`the harness's maxInFlight must be 4 to 16 (got ${harness.maxInFlight})`);
      }
      context.harness = harness as unknown as ConnectorHarness;
      context.run = runId();
      context.started = [];
    });
    afterEach(async () => {
      const stops = context.started.splice(0).reverse();
      for (const connector of stops) await connector.stop?.().catch(() => undefined);
      if (harness && options.teardown) await options.teardown(harness);
      harness = undefined;
    }, 60_000);
    fetchCases(context, cases);
    settleCases(context, cases);
    dispatchCases(context, cases);
    poisonCases(context, cases);
    crashCases(context, cases);
    connectionCases(context, cases);
    lifecycleCases(context, cases);
    // Checked once the file is collected: vitest collects the groups above (and the cases in
    // them) only after this function returns, so a check here would find none of them.
    beforeAll(() => cases.checkSkips());
  });
}
