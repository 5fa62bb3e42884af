/**
 * The partitioned key layout. A store of P partitions keeps each partition
 * under a hash tag of its own, so a Redis Cluster spreads them over its
 * masters while every script still touches one slot:
 *
 * - P = 1: the one partition is `{prefix}:…`, the layout of every earlier
 *   version (nothing moves).
 * - P > 1: partition i is `{prefix#i}:…`, or `{prefix#i.j}:…` with the
 *   smallest j ≥ 1 that puts the tag's slot near the middle of the i-th P-th
 *   of the slot space (within an eighth of its width), so the partitions sit
 *   evenly over the slots and therefore over the masters, which own even slot
 *   ranges: with 3 masters, P = 16 gives them 5, 6 and 5 partitions, and a
 *   multiple of 3 equal shares. `#` cannot occur in a prefix, so no partition
 *   tag is another store's prefix.
 *
 * A flow lives in the partition its id hashes to (CRC-32 of the id, mod P),
 * except a child, which lives in its parent's partition, and a flow with
 * flow-control keys (concurrency key, dedup, debounce), which lives in the
 * home partition (0) with the store's global state: workers, schedules and
 * queue limits. Such a flow has a location key where its id hashes to
 * (`KeyLayout.location`). The store's metadata (P) is `{prefix}:meta`.
 *
 * @module
 */
import { CLUSTER_SLOTS, crc32, tagSlot } from './hash.js';
import { KeyLayout } from './keys.js';

/** The most partitions a store may have. */
export const MAX_PARTITIONS = 256;

/** The partition that keeps the store's global state and its flow-control flows. */
export const HOME = 0;

/** The hash tag of partition `index` of `count` (without braces). */
export function partitionTag(prefix: string, count: number, index: number): string {
  if (count === 1) return prefix;
  const width = CLUSTER_SLOTS / count;
  const middle = Math.floor((index + 0.5) * width);
  const reach = Math.max(4, Math.floor(width / 8));
  const [low, high] = [middle - reach, middle + reach];
  for (let j = 0; ; j++) {
    const tag = j === 0 ? `${prefix}#${index}` : `${prefix}#${index}.${j}`;
    const slot = tagSlot(tag);
    if (slot >= low && slot < high) return tag;
  }
}

/** The key layouts of one store: its partitions, its home and its metadata key. */
export class Partitions {
  /** How many partitions (P). */
  readonly count: number;
  /** The prefix. */
  readonly prefix: string;
  /** Keys under the prefix's own tag: the metadata key, and for P = 1 the partition itself. */
  readonly root: KeyLayout;
  /** Each partition's keys, by number. */
  readonly parts: readonly KeyLayout[];
  readonly #byChannel: ReadonlyMap<string, number>;

  constructor(prefix: string, count: number) {
    this.prefix = prefix;
    this.count = count;
    this.root = new KeyLayout(prefix);
    this.parts = Object.freeze(
      Array.from({ length: count }, (_, i) =>
        count === 1 ? this.root : new KeyLayout(partitionTag(prefix, count, i)),
      ),
    );
    this.#byChannel = new Map(this.parts.map((keys, i) => [keys.events, i]));
  }

  /** The home partition's keys (global state). */
  get home(): KeyLayout {
    return this.parts[HOME] as KeyLayout;
  }

  /** Partition `index`'s keys. */
  keys(index: number): KeyLayout {
    const keys = this.parts[index];
    if (!keys) throw new Error(`no partition ${index} of ${this.count}`);
    return keys;
  }

  /** The partition a flow id hashes to. */
  natural(id: string): number {
    return this.count === 1 ? 0 : crc32(id) % this.count;
  }

  /** The partition whose event channel this is. */
  ofChannel(channel: string): number | undefined {
    return this.#byChannel.get(channel);
  }

  /** Every event channel, by partition. */
  get channels(): string[] {
    return this.parts.map((keys) => keys.events);
  }
}
