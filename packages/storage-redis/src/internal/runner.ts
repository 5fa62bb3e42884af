/**
 * Runs the store's scripts on one partition: the key base goes first in ARGV,
 * and, with `waitForReplicas`, each write is followed by `WAIT` in the same
 * pipeline, so it goes to the node that ran the write, on the same connection
 * (WAIT counts that connection's writes), and the call resolves only once the
 * replicas have it.
 *
 * @module
 */
import type { ChainableCommander, Cluster } from 'ioredis';
import type { WaitForReplicas } from '../options.js';
import type { RedisClient } from './connection.js';
import type { KeyLayout } from './keys.js';
import { commandName, type ScriptName } from './scripts.js';

type Commands = Record<string, (...parts: string[]) => Promise<unknown>>;

/** Replies and failures that mean a cluster's slot map may be out of date (a failover, a resharding). */
const STALE_SLOTS =
  /\b(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|READONLY)\b|Connection is closed|ECONNREFUSED|ECONNRESET/;

/** The scripts of one store, on one client. */
export class ScriptRunner {
  readonly #client: RedisClient;
  readonly #wait: WaitForReplicas | undefined;

  constructor(client: RedisClient, wait: WaitForReplicas | undefined) {
    this.#client = client;
    this.#wait = wait;
  }

  /** The client the scripts run on. */
  get client(): RedisClient {
    return this.#client;
  }

  /**
   * Called with every failure of a call: on a cluster, a redirect or a lost node asks ioredis
   * to read the slot map again. ioredis does that by itself for a single command, but not for
   * one answered inside a pipeline (ours, or its auto-pipelining), which otherwise keeps going
   * to a node that no longer serves the slot after a failover.
   */
  noteError(error: unknown): void {
    const client = this.#client as Cluster;
    if (!client.isCluster) return;
    const message = error instanceof Error ? error.message : String(error);
    if (STALE_SLOTS.test(message)) client.refreshSlotsCache();
  }

  /** Runs a script that only reads (or keeps indexes tidy): no replica wait. */
  read(
    name: ScriptName,
    part: KeyLayout,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    const command = (this.#client as unknown as Commands)[commandName(name)];
    if (!command) throw new Error(`script ${name} is not defined on the client`);
    return command.call(this.#client, ...keys, part.base, ...args);
  }

  /** Runs a script that changes state; with `waitForReplicas`, resolves once the replicas have it. */
  async write(
    name: ScriptName,
    part: KeyLayout,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    if (!this.#wait) return this.read(name, part, keys, args);
    return this.confirmed((pipeline) => {
      const command = (pipeline as unknown as Record<string, (...parts: string[]) => unknown>)[
        commandName(name)
      ];
      if (!command) throw new Error(`script ${name} is not defined on the client`);
      command.call(pipeline, ...keys, part.base, ...args);
    });
  }

  /**
   * Sends the commands `add` queues (all on one slot) as one pipeline, followed by `WAIT`
   * when replicas are waited for; resolves with the first command's reply.
   * @throws the first command's error; an Error saying how many replicas confirmed, when too few.
   */
  async confirmed(add: (pipeline: ChainableCommander) => void): Promise<unknown> {
    const pipeline = this.#client.pipeline();
    add(pipeline);
    const commands = pipeline.length;
    const wait = this.#wait;
    if (wait) pipeline.wait(wait.replicas, wait.timeoutMs);
    const replies = (await pipeline.exec()) ?? [];
    for (const [error] of replies.slice(0, commands)) if (error) throw error;
    if (wait) {
      const [error, acknowledged] = replies[commands] ?? [new Error('WAIT got no reply')];
      if (error) throw error;
      if (Number(acknowledged) < wait.replicas) {
        throw new Error(
          `NOREPLICAS the write reached ${Number(acknowledged)} of ${wait.replicas} replicas within ` +
            `${wait.timeoutMs} ms (waitForReplicas); it may or may not survive a failover`,
        );
      }
    }
    return replies[0]?.[1];
  }
}
