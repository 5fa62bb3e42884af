/**
 * The transport boundary of pipelines (DESIGN §3): a Service speaks a protocol,
 * a Connector turns it into transactions. Connector packages depend on core only.
 *
 * @module
 */
import type { Transaction } from './transaction.js';

/** Health as reported by a service or connector. */
export interface HealthStatus {
  /** True when the component can do its work now. */
  readonly healthy: boolean;
  /** A human-readable explanation when unhealthy. */
  readonly detail?: string;
}

/** A protocol client (AMQP, HTTP, a file, ...). */
export interface Service {
  /** Stable name, used in logs and dependency injection. */
  readonly name: string;
  /** Connects. Idempotent. Honour `signal` while waiting. */
  start(signal?: AbortSignal): Promise<void>;
  /** Disconnects, releasing every resource. Idempotent. */
  stop(): Promise<void>;
  /** Current health. */
  health(): Promise<HealthStatus>;
}

/** Options for {@link Connector.fetchTransactions}. */
export interface FetchOptions {
  /** Fetch at most this many. */
  readonly limit: number;
  /** Abort a wait for data. */
  readonly signal?: AbortSignal;
}

/** Options for {@link Connector.nack}. */
export interface NackOptions {
  /** Put it back for another delivery (true) or dead-letter it (false). */
  readonly requeue: boolean;
  /** Why it failed, for the dead-letter record. */
  readonly reason?: unknown;
}

/** Transactions in and out of one transport. */
export interface Connector<In = unknown, Out = In> {
  /** Stable name. */
  readonly name: string;
  /** Fetches up to `limit` transactions; an empty array when none are ready. */
  fetchTransactions?(options: FetchOptions): Promise<Transaction<In>[]>;
  /** Sends transactions out. Resolves when the transport accepted them all. */
  dispatchTransactions?(
    transactions: readonly Transaction<Out>[],
    options?: { signal?: AbortSignal },
  ): Promise<void>;
  /**
   * Reads the transaction `id` from the transport without claiming it or
   * changing anything (debugging, the CLI's `task process --id`): done or
   * not, claimed elsewhere or not. Resolves `undefined` when there is none.
   */
  findTransaction?(id: string, options?: { signal?: AbortSignal }): Promise<Transaction<In> | undefined>;
  /** Confirms a fetched transaction is done; it will not be delivered again. */
  ack?(transaction: Transaction<In>): Promise<void>;
  /** Gives a fetched transaction back: requeued, or dead-lettered. */
  nack?(transaction: Transaction<In>, options: NackOptions): Promise<void>;
  /** Prepares the connector (and its service). Idempotent. */
  start?(signal?: AbortSignal): Promise<void>;
  /** Releases the connector's resources. Idempotent. */
  stop?(): Promise<void>;
}
