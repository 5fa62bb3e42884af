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

/** Why a transaction was dead-lettered, as connectors record it beside the message. */
export interface DeadLetterReason {
  /** The Ergon error code, when the reason was an error with a string `code` (`CODEC_MALFORMED`, `NON_RETRYABLE`, ...). */
  readonly code?: string;
  /** The error's class name, when the reason was an error. */
  readonly name?: string;
  /** What went wrong. */
  readonly message: string;
}

/**
 * The reason given to `nack(…, { requeue: false, reason })` in the form
 * connectors store with a dead letter: an error keeps its name, message and
 * string `code`; no reason becomes `nacked without requeue`; a string is the
 * message; any other value its JSON. Never throws.
 */
export function describeReason(reason: unknown): DeadLetterReason {
  if (reason instanceof Error) {
    const code = (reason as { code?: unknown }).code;
    return { ...(typeof code === 'string' ? { code } : {}), name: reason.name, message: reason.message };
  }
  if (reason === undefined) return { message: 'nacked without requeue' };
  if (typeof reason === 'string') return { message: reason };
  let json: string | undefined;
  try {
    json = JSON.stringify(reason);
  } catch {
    // a cycle or a BigInt: fall back to String
  }
  return { message: json ?? String(reason) };
}
