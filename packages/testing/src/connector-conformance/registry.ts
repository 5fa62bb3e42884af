/**
 * How the suite's cases are registered: a test that needs a capability the
 * connector lacks, or that the connector package skips by name, is
 * registered as skipped with the reason in its name, so the gap shows in
 * every report instead of passing silently.
 *
 * @module
 */
import { it } from 'vitest';
import {
  CONNECTOR_CAPABILITIES,
  type ConnectorCapabilities,
  type ConnectorCapability,
  type ConformanceSkip,
} from './harness.js';

/** Options of one case. */
export interface CaseOptions {
  /** The capability the case checks; it is skipped (with the reason) when the connector lacks it. */
  readonly needs?: ConnectorCapability;
  /** The case's own timeout in ms. Default 30 s (brokers under CI load are slow). */
  readonly timeout?: number;
}

/** Registers the suite's cases. */
export interface CaseRegistry {
  /** Registers one case, or its visible skip. */
  test(title: string, body: () => Promise<void>, options?: CaseOptions): void;
  /** Throws when a named skip matched no case (a typo would otherwise run the test it meant to skip). */
  checkSkips(): void;
}

/** Validates the stated capabilities and skips, and returns the registry that applies them. */
export function caseRegistry(
  capabilities: ConnectorCapabilities,
  skips: readonly ConformanceSkip[],
): CaseRegistry {
  for (const name of CONNECTOR_CAPABILITIES) {
    const support = capabilities?.[name];
    if (support !== true && !(typeof support?.unsupported === 'string' && support.unsupported.trim())) {
      throw new Error(
        `describeConnectorConformance: capabilities.${name} must be true or { unsupported: '<why>' }`,
      );
    }
  }
  const skipped = new Map<string, string>();
  for (const skip of skips) {
    if (!skip.reason?.trim()) throw new Error('describeConnectorConformance: every skip needs a reason');
    for (const title of skip.tests) skipped.set(title, skip.reason);
  }
  const seen = new Set<string>();
  return {
    test(title, body, options = {}) {
      seen.add(title);
      const support = options.needs ? capabilities[options.needs] : true;
      const timeout = options.timeout ?? 30_000;
      if (support !== true) it.skip(`${title} [unsupported: ${support.unsupported}]`, body, timeout);
      else if (skipped.has(title)) it.skip(`${title} [skipped: ${skipped.get(title)}]`, body, timeout);
      else it(title, body, timeout);
    },
    checkSkips() {
      const unknown = [...skipped.keys()].filter((title) => !seen.has(title));
      if (unknown.length > 0) {
        throw new Error(`describeConnectorConformance: skip names unknown tests: ${unknown.join(', ')}`);
      }
    },
  };
}
