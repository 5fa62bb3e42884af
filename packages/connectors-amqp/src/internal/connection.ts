/**
 * Opening one connection to the broker: the connection with its events, the
 * confirm channel for publishing (the topology declared on it when asked,
 * returned messages recorded), and the backoff between reconnect attempts.
 * Until the owner calls `goLive`, a close is the opening's failure, not a
 * loss to recover from.
 *
 * @module
 */
import { type ChannelModel, type ConfirmChannel, connect } from 'amqplib';
import type { ResolvedAmqpOptions } from '../options.js';
import { declareTopology } from './topology.js';

/** What {@link openConnection} needs. */
export interface OpenConnectionOptions {
  /** The service's options (url, connection name, topology). */
  readonly options: ResolvedAmqpOptions;
  /** Where the ids of messages the broker returned as unroutable go (see `publish.ts`). */
  readonly returned: Set<string>;
  /** Called when the connection or the publisher channel closes after `goLive`. */
  readonly onLost: (error: Error) => void;
  /** Called when the broker blocks (true) or unblocks (false) publishing. */
  readonly onBlocked: (blocked: boolean) => void;
}

/** A connection being set up. */
export interface OpenedConnection {
  /** The connection. */
  readonly model: ChannelModel;
  /** Its confirm channel for publishing. */
  readonly publisher: ConfirmChannel;
  /**
   * Ends the set-up: from now on a close goes to `onLost`.
   * @throws the error of a close that happened during the set-up.
   */
  goLive(): void;
}

/** Connects and opens the publisher channel; on failure closes what it opened. */
export async function openConnection(o: OpenConnectionOptions): Promise<OpenedConnection> {
  const { options } = o;
  const model = await connect(options.url, {
    clientProperties: { connection_name: options.connectionName },
  });
  let live = false;
  let closedEarly: Error | undefined;
  const onClose = (error: Error) => {
    if (live) o.onLost(error);
    else closedEarly ??= error;
  };
  try {
    model.on('error', () => undefined); // 'close' follows with the error
    model.on('close', (error?: Error) => onClose(error ?? new Error('connection closed')));
    model.on('blocked', () => o.onBlocked(true));
    model.on('unblocked', () => o.onBlocked(false));
    const publisher = await model.createConfirmChannel();
    publisher.on('error', () => undefined);
    publisher.on('close', () => onClose(new Error('publisher channel closed')));
    if (options.declare) await declareTopology(publisher, options);
    publisher.on('return', (message) => {
      const id = message.properties.messageId;
      if (typeof id === 'string') o.returned.add(id);
    });
    return {
      model,
      publisher,
      goLive() {
        if (closedEarly) throw closedEarly;
        live = true;
      },
    };
  } catch (error) {
    await model.close().catch(() => undefined);
    throw error;
  }
}

/** The wait before reconnect attempt `attempt` (from 0): exponential, capped, ±20 % jitter. */
export function reconnectDelay(reconnect: ResolvedAmqpOptions['reconnect'], attempt: number): number {
  const { initialMs, maxMs, multiplier } = reconnect;
  const base = Math.min(maxMs, initialMs * multiplier ** attempt);
  return Math.min(maxMs, base * (0.8 + Math.random() * 0.4));
}
