/**
 * What an open store is made of, shared by the modules that implement its
 * calls: the connections, the partitioned layout, and what this instance
 * knows of its partitions and of the flows it holds.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { StoreListener } from '@ergon/core';
import type { ResolvedRedisOptions } from '../options.js';
import { Admission } from './admission.js';
import type { RedisClient } from './connection.js';
import { HeldFlows } from './held.js';
import type { Partitions } from './partitions.js';
import { Router } from './router.js';
import { ScriptRunner } from './runner.js';
import type { LoadedScript, ScriptName } from './scripts.js';
import { PartitionTracker } from './tracker.js';

/** One open store's parts. */
export class StoreCore {
  readonly options: ResolvedRedisOptions;
  readonly client: RedisClient;
  readonly ownsClient: boolean;
  readonly layout: Partitions;
  readonly runner: ScriptRunner;
  readonly router: Router;
  /** Queues known to have limits: other partitions than home claim them only when admitted. */
  readonly limited = new Set<string>();
  readonly tracker: PartitionTracker;
  readonly held = new HeldFlows();
  readonly admission: Admission;
  readonly listeners = new Set<StoreListener>();
  /** Workers this instance parked (`ClaimRequest.park`): their `handed` events carry the claim. */
  readonly parked = new Set<string>();
  readonly #ridBase = randomBytes(8).toString('hex');
  #ridSeq = 0;

  constructor(
    options: ResolvedRedisOptions,
    client: RedisClient,
    ownsClient: boolean,
    layout: Partitions,
    scripts: ReadonlyMap<ScriptName, LoadedScript>,
  ) {
    this.options = options;
    this.client = client;
    this.ownsClient = ownsClient;
    this.layout = layout;
    this.runner = new ScriptRunner(client, options.waitForReplicas, scripts);
    this.router = new Router(layout, this.runner);
    this.tracker = new PartitionTracker(layout.count, (queue) => this.limited.has(queue));
    this.admission = new Admission(this.runner, layout);
  }

  /** More than one partition. */
  get partitioned(): boolean {
    return this.layout.count > 1;
  }

  /** Creates hand new flows to parked workers (`scripts/includes/park.lua`). */
  get handsOff(): boolean {
    return !this.partitioned && this.options.waitForReplicas === undefined;
  }

  /** A request id: unique per call, so a resent copy of a state change is recognised. */
  rid(): string {
    this.#ridSeq += 1;
    return `${this.#ridBase}:${this.#ridSeq}`;
  }
}
