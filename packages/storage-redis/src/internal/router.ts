/**
 * Which partition a flow lives in. Without I/O when possible: partition 0 with
 * one partition; the partition its id hashes to, unless this store placed,
 * claimed or found the flow elsewhere (remembered, bounded). Otherwise one read
 * in the partition the id hashes to, which holds either the flow or its
 * location key (`partitions.ts`).
 *
 * @module
 */
import type { Partitions } from './partitions.js';
import type { ScriptRunner } from './runner.js';

/** How many flows' partitions one store remembers. */
const REMEMBERED = 100_000;

/** Where flows live, for one store. */
export class Router {
  readonly #layout: Partitions;
  readonly #runner: ScriptRunner;
  /** Partitions of flows seen lately (claimed, created, looked up), oldest first. */
  readonly #moved = new Map<string, number>();

  constructor(layout: Partitions, runner: ScriptRunner) {
    this.#layout = layout;
    this.#runner = runner;
  }

  /** The partition as far as known without I/O: remembered, else where the id hashes to. */
  known(id: string): number {
    return this.#moved.get(id) ?? this.#layout.natural(id);
  }

  /** True when the partition of `id` needs no lookup (one partition, or remembered). */
  certain(id: string): boolean {
    return this.#layout.count === 1 || this.#moved.has(id);
  }

  /** The flow lives in partition `p` (seen in a claim, a create, a lookup). */
  remember(id: string, p: number): void {
    if (this.#layout.count === 1) return;
    this.#moved.delete(id);
    this.#moved.set(id, p);
    if (this.#moved.size > REMEMBERED) this.#moved.delete(this.#moved.keys().next().value as string);
  }

  /** Forget a remembered location (the flow was not found there). */
  forget(id: string): void {
    this.#moved.delete(id);
  }

  /**
   * The flow's partition: remembered, else one round trip to the partition its id hashes to
   * (the flow, or its location key). A flow that exists nowhere gets that partition.
   */
  async locate(id: string): Promise<number> {
    if (this.certain(id)) return this.known(id);
    const natural = this.#layout.natural(id);
    const keys = this.#layout.keys(natural);
    const pipeline = this.#runner.client.pipeline();
    pipeline.exists(keys.flow(id));
    pipeline.get(keys.location(id));
    const [[existsError, exists] = [], [locationError, location] = []] = (await pipeline.exec()) ?? [];
    if (existsError) throw existsError;
    if (locationError) throw locationError;
    if (Number(exists) === 1 || location === null || location === undefined) return natural;
    const p = Number(location);
    if (!Number.isInteger(p) || p < 0 || p >= this.#layout.count) return natural;
    this.remember(id, p);
    return p;
  }

  /**
   * Keeps a new flow in partition `target` rather than where its id hashes to: records its
   * location there first (so it is found by id as soon as it exists), unless the flow exists
   * already (returns where). Returns the partition to create it in.
   */
  async place(id: string, target: number): Promise<number> {
    const natural = this.#layout.natural(id);
    if (target === natural) return natural;
    const keys = this.#layout.keys(natural);
    const at = Number(
      await this.#runner.write('place-flow', keys, [keys.location(id)], [id, String(target)]),
    );
    const p = at < 0 || at >= this.#layout.count ? natural : at;
    this.remember(id, p);
    return p;
  }

  /** Drops the location key of a flow that was not created after all (a dedup or debounce hit). */
  async unplace(id: string): Promise<void> {
    const natural = this.#layout.natural(id);
    this.forget(id);
    await this.#runner.confirmed((pipeline) => pipeline.del(this.#layout.keys(natural).location(id)));
  }

  /** Drops the location keys of purged flows kept outside their id's partition. */
  async purged(ids: readonly string[], p: number): Promise<void> {
    const byPartition = new Map<number, string[]>();
    for (const id of ids) {
      this.forget(id);
      const natural = this.#layout.natural(id);
      if (natural === p) continue;
      const keys = byPartition.get(natural) ?? [];
      keys.push(this.#layout.keys(natural).location(id));
      byPartition.set(natural, keys);
    }
    await Promise.all(
      [...byPartition.values()].map((keys) => this.#runner.confirmed((pipeline) => pipeline.del(...keys))),
    );
  }
}
