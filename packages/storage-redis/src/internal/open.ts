/**
 * Opening a Redis store: the command connection, the scripts, the
 * `maxmemory-policy` check and the event subscriber; on failure every
 * connection it opened is closed again.
 *
 * @module
 */
import type { StoreListener } from '@ergon/core';
import { type RedisExecutionLogOptions, type ResolvedRedisOptions, resolveOptions } from '../options.js';
import { decodeEvent } from './codec.js';
import {
  checkEvictionPolicy,
  createClient,
  ensureConnected,
  openSubscriber,
  type RedisClient,
  watchConnection,
} from './connection.js';
import { toStoreError } from './errors.js';
import { KeyLayout } from './keys.js';
import { defineScripts, loadScripts } from './scripts.js';

/** What an open store is made of. */
export interface StoreParts {
  readonly options: ResolvedRedisOptions;
  readonly client: RedisClient;
  readonly ownsClient: boolean;
  readonly subscriber: RedisClient;
  readonly keys: KeyLayout;
  readonly listeners: Set<StoreListener>;
}

/** Connects and prepares everything a store needs. */
export async function connectStore(options: RedisExecutionLogOptions): Promise<StoreParts> {
  const resolved = resolveOptions(options);
  const ownsClient = resolved.redis === undefined;
  const client = resolved.redis ?? createClient(resolved.url, resolved.commandTimeoutMs);
  // Until the first connection succeeds, failures are reported by open() itself.
  const quiet = () => {};
  if (ownsClient) client.on('error', quiet);
  const keys = new KeyLayout(resolved.prefix);
  const listeners = new Set<StoreListener>();
  let subscriber: RedisClient | undefined;
  try {
    const scripts = await loadScripts();
    await ensureConnected(client, resolved.commandTimeoutMs).catch((error: unknown) => {
      throw toStoreError(error, { action: 'connect' });
    });
    if (ownsClient) {
      client.off('error', quiet);
      watchConnection(client, resolved.logger, 'command');
    }
    defineScripts(client, scripts);
    await checkEvictionPolicy(client, {
      allow: resolved.allowEvictionPolicy,
      logger: resolved.logger,
      timeoutMs: resolved.commandTimeoutMs,
    });
    subscriber = await openSubscriber(client, {
      channel: keys.events,
      logger: resolved.logger,
      timeoutMs: resolved.commandTimeoutMs,
      onMessage: (message) => dispatch(listeners, message),
    });
  } catch (error) {
    if (ownsClient) client.disconnect();
    throw error;
  }
  return { options: resolved, client, ownsClient, subscriber, keys, listeners };
}

function dispatch(listeners: Set<StoreListener>, message: string): void {
  if (listeners.size === 0) return;
  const event = decodeEvent(message);
  if (!event) return;
  // Listeners come through the runtime wrapper, which isolates one that throws.
  for (const listener of listeners) listener(event);
}
