/**
 * Key layout, for the keys the client reads or passes in KEYS. Mirror of
 * `src/scripts/includes/keys.lua`: change both together.
 *
 * Every key of one partition starts with `{tag}:`; the braces make the tag the
 * Redis Cluster hash tag, so all keys of one partition share one slot. With
 * one partition the tag is the prefix itself (`{prefix}:`); with more, each
 * partition has its own (`partitions.ts`).
 *
 * @module
 */
import { ErrorCode, InvalidArgumentError } from '@ergon/core';

/** Default key prefix. */
export const DEFAULT_PREFIX = 'ergon';

// Letters, digits and _ . : / @ -: no spaces, no braces (they would change the
// hash tag), no control characters, no glob characters (SCAN patterns).
const PREFIX_PATTERN = /^[A-Za-z0-9_.:/@-]{1,64}$/;

/** Checks a key prefix. @throws InvalidArgumentError (`INVALID_ARGUMENT`) naming the allowed characters. */
export function validatePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new InvalidArgumentError(
      `Redis key prefix ${JSON.stringify(prefix)} is not valid: use 1–64 characters from A–Z a–z 0–9 and _ . : / @ - ` +
        '(no spaces, braces or control characters; braces are added by the store to form the cluster hash tag)',
      { code: ErrorCode.INVALID_ARGUMENT, details: { option: 'prefix' } },
    );
  }
  return prefix;
}

/** The keys of one partition (one hash tag). */
export class KeyLayout {
  /** `{tag}:`, passed to every script as ARGV[1]. */
  readonly base: string;
  /** Pub/sub channel of the partition's store events. */
  readonly events: string;

  /** @param tag the hash tag, without braces: the prefix itself, or a partition's tag. */
  constructor(tag: string) {
    this.base = `{${tag}}:`;
    this.events = `${this.base}events`;
  }

  /** The store's metadata (its partition count), kept under the prefix's own tag `{prefix}:meta`. */
  get meta(): string {
    return `${this.base}meta`;
  }

  /** Every flow: member `<createdAt, 16 digits><id>`, score 0 (listing, and cluster routing). */
  get created(): string {
    return `${this.base}created`;
  }

  /** Terminal flows: score finishedAt, member id (purge). */
  get finished(): string {
    return `${this.base}finished`;
  }

  /** The worker registry: worker id → JSON record. */
  get workers(): string {
    return `${this.base}workers`;
  }

  /** Workers by last heartbeat: score ms, member worker id (reaping). */
  get workersSeen(): string {
    return `${this.base}workers:seen`;
  }

  /** The flow's hash. */
  flow(id: string): string {
    return `${this.base}flow:${id}`;
  }

  /** The flow's history hash: position → record JSON. */
  history(id: string): string {
    return `${this.base}hist:${id}`;
  }

  /** The flow's buffered signals: seq → signal JSON. */
  signals(id: string): string {
    return `${this.base}sig:${id}`;
  }

  /** Request ids of the flow's signal sends in the last hour (score: sent at), so a resend is recognised. */
  signalRequests(id: string): string {
    return `${this.base}sigr:${id}`;
  }

  /** The flow's signal index (FIFO per name). */
  signalIndex(id: string): string {
    return `${this.base}sigx:${id}`;
  }

  /**
   * Where a flow kept outside the partition its id hashes to lives (a child in its parent's
   * partition, a flow-control flow in the home partition): a string, the partition's number.
   * Kept in the partition the id hashes to.
   */
  location(id: string): string {
    return `${this.base}loc:${id}`;
  }

  /** A per-queue key of flow control, as `includes/control.lua` names it (queue length in bytes). */
  queuePart(kind: string, queue: string): string {
    return `${this.base}${kind}:${Buffer.byteLength(queue, 'utf8')}:${queue}`;
  }
}
