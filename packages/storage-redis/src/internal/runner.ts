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
import { isNoScript, type LoadedScript, runScript, type ScriptHost, type ScriptName } from './scripts.js';

/** Replies and failures that mean a cluster's slot map may be out of date (a failover, a resharding). */
const STALE_SLOTS =
  /\b(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|READONLY)\b|Connection is closed|ECONNREFUSED|ECONNRESET/;

/** The scripts of one store, on one client. */
export class ScriptRunner {
  readonly #client: RedisClient;
  readonly #wait: WaitForReplicas | undefined;
  readonly #scripts: ReadonlyMap<ScriptName, LoadedScript>;

  constructor(
    client: RedisClient,
    wait: WaitForReplicas | undefined,
    scripts: ReadonlyMap<ScriptName, LoadedScript>,
  ) {
    this.#client = client;
    this.#wait = wait;
    this.#scripts = scripts;
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
    return runScript(this.#client as ScriptHost<Promise<unknown>>, this.#script(name), [
      ...keys,
      part.base,
      ...args,
    ]);
  }

  /**
   * Runs a script that changes state; with `waitForReplicas`, resolves once the replicas have it.
   * Without, the script's own promise (no async layer: a lone step record goes through here).
   */
  write(
    name: ScriptName,
    part: KeyLayout,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    if (this.#wait) return this.#confirmedWrite(name, part, keys, args);
    try {
      return this.read(name, part, keys, args);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #confirmedWrite(
    name: ScriptName,
    part: KeyLayout,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    const script = this.#script(name);
    const keysAndArgs = [...keys, part.base, ...args];
    const host = (pipeline: ChainableCommander) => pipeline as unknown as ScriptHost<unknown>;
    try {
      return await this.confirmed((pipeline) =>
        host(pipeline).evalsha(script.sha, script.numberOfKeys, ...keysAndArgs),
      );
    } catch (error) {
      // NOSCRIPT: the script did not run (a restarted Redis); send its text.
      if (!isNoScript(error)) throw error;
      return this.confirmed((pipeline) =>
        host(pipeline).eval(script.lua, script.numberOfKeys, ...keysAndArgs),
      );
    }
  }

  #script(name: ScriptName): LoadedScript {
    const script = this.#scripts.get(name);
    if (!script) throw new Error(`no Lua script ${name} was loaded`);
    return script;
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
