/**
 * Opening a Redis store: the command connection, the scripts, the
 * `maxmemory-policy` check, the partition count, and the event subscriber;
 * on failure every connection it opened is closed again.
 *
 * @module
 */
import type { RedisExecutionLogOptions } from '../options.js';
import { resolveOptions } from '../options.js';
import {
  checkEvictionPolicy,
  createClient,
  ensureConnected,
  openSubscriber,
  type RedisClient,
  watchConnection,
} from './connection.js';
import { StoreCore } from './core.js';
import { toStoreError } from './errors.js';
import { dispatch } from './dispatch.js';
import { storedPartitions } from './meta.js';
import { Partitions } from './partitions.js';
import { ScriptRunner } from './runner.js';
import { loadScripts } from './scripts.js';

/** An open store's parts and its subscriber. */
export interface StoreParts {
  readonly core: StoreCore;
  readonly subscriber: RedisClient;
}

/** Connects and prepares everything a store needs. */
export async function connectStore(options: RedisExecutionLogOptions): Promise<StoreParts> {
  const resolved = resolveOptions(options);
  const ownsClient = resolved.redis === undefined;
  const client = resolved.redis ?? createClient(resolved.url, resolved.commandTimeoutMs);
  // Until the first connection succeeds, failures are reported by open() itself.
  const quiet = () => {};
  if (ownsClient) client.on('error', quiet);
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
    await checkEvictionPolicy(client, {
      allow: resolved.allowEvictionPolicy,
      logger: resolved.logger,
      timeoutMs: resolved.commandTimeoutMs,
    });
    const root = new Partitions(resolved.prefix, 1).root;
    const count = await storedPartitions(
      new ScriptRunner(client, resolved.waitForReplicas, scripts),
      root,
      resolved.prefix,
      resolved.partitions,
      resolved.defaultPartitions,
    ).catch((error: unknown) => {
      throw toStoreError(error, { action: 'read the partition count' });
    });
    const core = new StoreCore(resolved, client, ownsClient, new Partitions(resolved.prefix, count), scripts);
    subscriber = await openSubscriber(client, {
      channels: core.layout.channels,
      logger: resolved.logger,
      timeoutMs: resolved.commandTimeoutMs,
      onMessage: (channel, message) => dispatch(core, channel, message),
      // Events published while it was away are lost: what the views knew may be out of date.
      onReady: () => core.tracker.forgetAll(),
    });
    return { core, subscriber };
  } catch (error) {
    if (ownsClient) client.disconnect();
    throw error;
  }
}
