/**
 * Signals from outside (a queue, a webhook) into the store: a source delivers,
 * the adapter stores through the client. A bad signal is reported, never
 * allowed to stop the source.
 *
 * @module
 */
import { type Logger, noopLogger, toError } from '@ergon/core';
import type { Client } from './client.js';

/** A signal arriving from outside. */
export interface IncomingSignal {
  /** The flow to signal. */
  readonly flowId: string;
  /** The signal name. */
  readonly name: string;
  /** The payload the flow receives; must be encodable by the codec. */
  readonly payload?: unknown;
}

/** Something that produces signals: call `deliver` for each; stop when `signal` aborts. */
export interface SignalSource {
  /** Stable name, used in logs. */
  readonly name: string;
  /**
   * Starts producing. `deliver` resolves once the signal is stored (ack the
   * message then) and rejects when it cannot be (nack or drop it then).
   */
  start(deliver: (signal: IncomingSignal) => Promise<void>, signal: AbortSignal): Promise<void> | void;
}

/** Options of {@link connectSignalSource}. */
export interface ConnectSignalSourceOptions {
  /** Where delivery failures are logged. Default: nowhere. */
  readonly logger?: Logger;
  /** Told about each signal that could not be stored (unknown or finished flow, bad payload). */
  readonly onError?: (signal: IncomingSignal, error: Error) => void;
}

/** Connects a source to a client. Returns a function that stops it. */
export function connectSignalSource(
  source: SignalSource,
  client: Client,
  options: ConnectSignalSourceOptions = {},
): {
  /** Stops taking signals from the source (aborts its `signal`). */
  stop(): void;
  /** Settles when the source has stopped. */
  done: Promise<void>;
} {
  const logger = options.logger ?? noopLogger;
  const controller = new AbortController();
  const deliver = async (incoming: IncomingSignal): Promise<void> => {
    try {
      await client.signal(incoming.flowId, incoming.name, incoming.payload);
    } catch (error) {
      const failure = toError(error);
      logger.warn(`signal from ${source.name} not delivered`, {
        flowId: incoming.flowId,
        name: incoming.name,
        error: failure.message,
      });
      options.onError?.(incoming, failure);
      throw failure;
    }
  };
  const done = Promise.resolve()
    .then(() => source.start(deliver, controller.signal))
    .catch((error) => logger.error(`signal source ${source.name} failed`, { error: toError(error).message }));
  return { stop: () => controller.abort(), done };
}
