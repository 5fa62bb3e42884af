/**
 * What a connector package hands the connector conformance suite: the
 * connector on a queue of the test's own, and a harness of the few things the
 * suite cannot do through the `Connector` interface (read the dead letters,
 * publish bytes no producer would, have the broker drop a connection, start
 * a consumer in a child process).
 *
 * @module
 */
import type { Connector, HealthStatus } from '@ergon/core';

/** The payload every transaction of the suite carries. */
export interface ConformancePayload {
  /** Position of the message in the test, to match deliveries to dispatches. */
  readonly n: number;
  /** Unique per test run: a message from another run is never mistaken for one of this test. */
  readonly run: string;
}

/** The connector type the suite drives. */
export type ConformanceConnector = Connector<ConformancePayload, ConformancePayload>;

/** A message the suite asks {@link ConnectorHarness.publishRaw} to publish. */
export type PoisonKind =
  /** A body the connector cannot decode into a payload (e.g. `{not json`). */
  | 'undecodable'
  /** A decodable body without the message id the transport requires to make a transaction id. */
  | 'missing-id'
  /** A decodable body over the connector's configured size limit. */
  | 'too-large';

/** One dead letter, as the harness reads it back from the transport. */
export interface DeadLetterRecord {
  /** The transaction id, when the message had one. */
  readonly id?: string;
  /** The decoded payload, when the message could be decoded. */
  readonly payload?: unknown;
  /** The metadata the message carried (headers), original keys and values kept. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Why it was dead-lettered: the error's `code` (Ergon codes) and a message a person can act on. */
  readonly reason: {
    /** The error's code. */
    readonly code?: string;
    /** The error's message. */
    readonly message: string;
  };
}

/** How the suite starts a consumer of the test's queue in a child process. */
export interface ConsumerProcess {
  /**
   * A Node.js script (forked with an IPC channel) that makes a connector on
   * the harness's queue and calls `serveConformanceChild(connector)` from
   * `@ergon/testing/connector-child`.
   */
  readonly script: string;
  /** Arguments for the script (how to find the queue). */
  readonly args?: readonly string[];
}

/**
 * A connector under test and what the suite needs around it. `create` makes
 * a fresh one per test, on its own queue (or stream, or vhost), empty.
 */
export interface ConnectorHarness<C extends ConformanceConnector = ConformanceConnector> {
  /**
   * The connector under test, not started. It dispatches to the test's queue
   * and fetches from it. It must not take messages off the queue before its
   * first fetch (a producer-only connector holds nothing).
   */
  readonly connector: C;
  /** Another connector on the same queue (a second consumer), not started. The suite starts and stops it. */
  createConsumer(): Promise<C> | C;
  /**
   * The most transactions one connector holds fetched and unsettled (its
   * prefetch, its in-flight bound). Between 4 and 16 for the suite.
   */
  readonly maxInFlight: number;
  /** Messages in the queue waiting for delivery: neither delivered nor held by any consumer. */
  readyCount(): Promise<number>;
  /** The test queue's dead letters, oldest first, without consuming them. */
  readDeadLetters(): Promise<DeadLetterRecord[]>;
  /** The health of `connector`'s connection (usually its service's `health()`). */
  health(connector: C): Promise<HealthStatus>;
  /** Capability `refusedPublish`: a connector, not started, whose publishes the broker refuses. */
  createRefusingConnector?(): Promise<C> | C;
  /** Capabilities `undecodableMessages`, `messagesWithoutId`, `oversizedMessages`: publishes one such message. */
  publishRaw?(kind: PoisonKind): Promise<void>;
  /**
   * Capability `connectionDrop`: makes the broker close the connections of
   * `connector` (server side: `rabbitmqctl close_connection`, `CLIENT KILL`),
   * as a network failure or a broker restart would. Resolves once closed.
   */
  dropConnection?(connector: C): Promise<void>;
  /** Capability `processCrash`: a consumer of the same queue in a child process. */
  readonly consumerProcess?: ConsumerProcess;
}

/** Every capability a connector may lack, each with tests of its own. */
export const CONNECTOR_CAPABILITIES = [
  /** `findTransaction` reads a waiting message by id without taking it. */
  'findTransaction',
  /** The broker can refuse a publish, and `dispatchTransactions` then rejects (publisher confirms, `XADD` errors). */
  'refusedPublish',
  /** A body that cannot be decoded can reach the queue. */
  'undecodableMessages',
  /** A message without a transport id can reach the queue (AMQP `message_id`); not for streams that always id entries. */
  'messagesWithoutId',
  /** A message over the connector's size limit can reach the queue. */
  'oversizedMessages',
  /** The harness can have the broker drop the connector's connections. */
  'connectionDrop',
  /** The harness can run a consumer in a child process (the suite SIGKILLs it). */
  'processCrash',
] as const;

/** One of {@link CONNECTOR_CAPABILITIES}. */
export type ConnectorCapability = (typeof CONNECTOR_CAPABILITIES)[number];

/**
 * Support of one capability: `true`, or why not. A missing capability skips
 * its tests visibly, with the reason in the test name; it never passes them.
 */
export type CapabilitySupport =
  | true
  | {
      /** Why the connector lacks the capability. */
      readonly unsupported: string;
    };

/** Every capability, stated: none may be left out, so a lacking one is a decision on record. */
export type ConnectorCapabilities = { readonly [K in ConnectorCapability]: CapabilitySupport };

/** Named tests to skip, with why (in the manner of Hono's router suite). */
export interface ConformanceSkip {
  /** Why: shown in the skipped test's name. */
  readonly reason: string;
  /** Test titles (the `it` text, without the describe path). Unknown titles fail the suite. */
  readonly tests: readonly string[];
}
