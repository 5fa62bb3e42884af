/**
 * One consumer of one group, on the protocol level: where deliveries come
 * from (its own unknown pending entries after a reconnect, entries a dead
 * consumer left behind, new entries), and what settles them (XACK, a
 * release to other consumers, the dead-letter script). Knows nothing of
 * transactions; the connector does.
 *
 * @module
 */
import { ErgonError, ErrorCode, type Logger } from '@ergon/core';
import type { Redis } from 'ioredis';
import { deadLetterFields } from '../dead-letters.js';
import type { ResolvedStreamOptions } from '../options.js';
import type { RedisStreamsService } from '../service.js';
import {
  type Delivery,
  parseAutoClaimReply,
  parseEntries,
  parsePendingCounts,
  type RawEntry,
  withBufferCommands,
} from './entries.js';
import { replyCode, toConnectorError } from './errors.js';
import { AckBatcher } from './ack-batcher.js';
import { HeldEntries } from './held.js';
import { BlockingReader } from './reader.js';
import { deadLetterEntry, touchEntries } from './scripts.js';

/**
 * Idle time given to released entries: far above any `claimIdle`, so the
 * next XAUTOCLAIM of any consumer takes them (and below the epoch in ms,
 * which Redis would clamp to zero).
 */
const RELEASED_IDLE_MS = 10 * 365 * 24 * 3600 * 1000;

/** Pending entries looked at per page while recovering. */
const RECOVER_PAGE = 100;

/** The protocol side of fetching and settling for one stream, group and consumer. */
export class StreamConsumer {
  /** Fetched, unsettled entries. */
  readonly held = new HeldEntries();
  readonly #service: RedisStreamsService;
  readonly #options: ResolvedStreamOptions;
  readonly #logger: Logger;
  readonly #claimEveryMs: number;
  readonly #acks = new AckBatcher((ids) =>
    this.#client.xack(this.#options.stream, this.#options.group, ...ids),
  );
  #reader: BlockingReader | undefined;
  #ready: Promise<void> | undefined;
  #renewal: NodeJS.Timeout | undefined;
  /** Look for own pending entries nobody here knows of (first fetch, after a reconnect). */
  #recover = true;
  #claimCursor = '0-0';
  #nextClaimAt = 0;

  constructor(service: RedisStreamsService, options: ResolvedStreamOptions, logger: Logger) {
    this.#service = service;
    this.#options = options;
    this.#logger = logger;
    this.#claimEveryMs = Math.min(5000, Math.max(50, Math.floor(options.claimIdleMs / 2)));
  }

  /** The command connection. */
  get #client(): Redis {
    return this.#service.client;
  }

  /** Opens the reading connection, creates the group (and stream) if missing, starts renewals. Idempotent. */
  ready(): Promise<void> {
    this.#ready ??= (async () => {
      await this.ensureGroup();
      this.#reader = await BlockingReader.open(this.#service, `read:${this.#options.consumer}`, () => {
        this.#recover = true;
      });
      this.#client.on('ready', this.#onCommandReconnect);
      this.#renewal = setInterval(
        () => void this.#renew(),
        Math.max(10, Math.floor(this.#options.claimIdleMs / 3)),
      );
      this.#renewal.unref();
    })().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /** `XGROUP CREATE … MKSTREAM`; an existing group is left as it is. */
  async ensureGroup(): Promise<void> {
    const { stream, group, startId } = this.#options;
    try {
      await this.#client.xgroup('CREATE', stream, group, startId, 'MKSTREAM');
    } catch (error) {
      if (replyCode(error) !== 'BUSYGROUP') throw this.#error(error, 'create the consumer group on');
    }
  }

  /**
   * Up to `count` deliveries: first own pending entries nobody here knows of
   * (after a reconnect), then entries idle past `claimIdle` in any consumer
   * (when a sweep is due), then new entries, blocking up to `blockMs` only
   * when nothing else came. Each delivery counts (XCLAIM, XAUTOCLAIM and
   * XREADGROUP raise the count), and carries its count.
   */
  async deliver(count: number, signal?: AbortSignal): Promise<Delivery[]> {
    await this.ready();
    const out: Delivery[] = [];
    try {
      if (this.#recover) out.push(...(await this.#recoverOwn(count)));
      if (out.length < count && Date.now() >= this.#nextClaimAt)
        out.push(...(await this.#reclaim(count - out.length)));
      if (out.length < count && !signal?.aborted) {
        const blockMs =
          out.length > 0 ? 0 : Math.max(1, Math.min(this.#options.blockMs, this.#nextClaimAt - Date.now()));
        const fresh = await this.#read(count - out.length, blockMs, signal);
        for (const entry of fresh) out.push({ id: entry.id, fields: entry.fields, deliveries: 1 });
      }
    } catch (error) {
      // Entries delivered in a reply we did not get are pending here: look for them next time.
      this.#recover = true;
      if (out.length > 0) {
        this.#logger.warn(`redis streams: fetching from ${this.#options.stream} failed midway`, {
          error: String(error),
        });
        return out;
      }
      throw error;
    }
    return out;
  }

  /** XACK (gathered with the acks asked for while one is in flight). */
  async ack(id: string): Promise<void> {
    try {
      await this.#acks.ack(id);
    } catch (error) {
      throw this.#error(error, 'ack an entry of');
    } finally {
      this.held.delete(id);
    }
  }

  /** Gives held entries back: any consumer's next XAUTOCLAIM takes them, this one's next fetch included. */
  async release(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const { stream, group, consumer } = this.#options;
    try {
      await touchEntries(this.#client, { stream, group, consumer, idleMs: RELEASED_IDLE_MS, ids });
    } catch (error) {
      throw this.#error(error, 'requeue entries of');
    } finally {
      for (const id of ids) this.held.delete(id);
      this.#claimCursor = '0-0';
      this.#nextClaimAt = 0;
    }
  }

  /**
   * Moves the entry to the dead-letter stream with `fields` appended, and
   * acks it, in one script. `onlyIfPending: false` for entries that already
   * left the pending list (deleted from the stream).
   */
  async deadLetter(id: string, fields: readonly string[], onlyIfPending = true): Promise<void> {
    const { stream, deadLetterStream, group } = this.#options;
    try {
      await deadLetterEntry(this.#client, {
        stream,
        deadLetterStream,
        group,
        entryId: id,
        onlyIfPending,
        fields,
      });
    } catch (error) {
      throw this.#error(error, 'dead-letter an entry of');
    } finally {
      this.held.delete(id);
    }
  }

  /** Ends a blocked read, stops renewals, releases what is still held, closes the reading connection. */
  async close(): Promise<void> {
    clearInterval(this.#renewal);
    this.#renewal = undefined;
    const ready = this.#ready;
    this.#ready = undefined;
    if (
      !ready ||
      !(await ready.then(
        () => true,
        () => false,
      ))
    )
      return;
    this.#service.client.off('ready', this.#onCommandReconnect);
    const held = this.held.ids();
    try {
      await this.release(held);
    } catch (error) {
      this.#logger.warn(
        `redis streams: could not requeue ${held.length} entries of ${this.#options.stream} on stop; ` +
          `other consumers take them over after claimIdle`,
        { error: String(error) },
      );
    }
    this.held.clear();
    this.#reader?.close();
    this.#reader = undefined;
    this.#recover = true;
  }

  /** Something delivered here may be pending unknown (a failed dead-letter): look for it on the next fetch. */
  lostTrack(): void {
    this.#recover = true;
  }

  readonly #onCommandReconnect = () => {
    this.#recover = true;
  };

  async #read(count: number, blockMs: number, signal: AbortSignal | undefined): Promise<RawEntry[]> {
    const reader = this.#reader as BlockingReader;
    const { stream, group, consumer } = this.#options;
    const started = Date.now();
    const read = () => reader.read({ stream, group, consumer, count, blockMs }, signal);
    let entries: RawEntry[];
    try {
      entries = await read();
    } catch (error) {
      // The group (or the stream) was deleted meanwhile: make it again, once.
      if (replyCode(error) !== 'NOGROUP') throw this.#error(error, 'read from');
      await this.ensureGroup();
      entries = await read().catch((again: unknown) => {
        throw this.#error(again, 'read from');
      });
    }
    // An empty answer long after the block ended came from the client-side
    // safety net, not from Redis: its real reply may have delivered entries.
    if (entries.length === 0 && blockMs > 0 && Date.now() - started > blockMs + 1000) this.#recover = true;
    return entries;
  }

  /** Own pending entries that nobody here holds: delivered in a reply that was lost, or before a restart. */
  async #recoverOwn(count: number): Promise<Delivery[]> {
    const { stream, group, consumer } = this.#options;
    const unknown: string[] = [];
    let start = '-';
    let exhausted = false;
    while (unknown.length < count) {
      let page: unknown;
      try {
        page = await this.#client.xpending(stream, group, start, '+', RECOVER_PAGE, consumer);
      } catch (error) {
        if (replyCode(error) === 'NOGROUP') {
          await this.ensureGroup();
          exhausted = true;
          break;
        }
        throw this.#error(error, 'list pending entries of');
      }
      const ids = [...parsePendingCounts(page).keys()];
      for (const id of ids) if (!this.held.has(id) && unknown.length < count) unknown.push(id);
      if (ids.length < RECOVER_PAGE) {
        exhausted = true;
        break;
      }
      start = `(${ids[ids.length - 1]}`;
    }
    if (exhausted && unknown.length < count) this.#recover = false;
    if (unknown.length === 0) return [];
    const claimed = parseEntries(
      await withBufferCommands(this.#client)
        .xclaimBuffer(stream, group, consumer, 0, ...unknown)
        .catch((error: unknown) => {
          throw this.#error(error, 'take back pending entries of');
        }),
    );
    await this.#deadLetterDeleted(unknown.filter((id) => !claimed.some((e) => e.id === id)));
    return this.#withCounts(claimed);
  }

  /** One XAUTOCLAIM step of the sweep over the group's pending entries. */
  async #reclaim(count: number): Promise<Delivery[]> {
    const { stream, group, consumer, claimIdleMs } = this.#options;
    let reply: ReturnType<typeof parseAutoClaimReply>;
    try {
      reply = parseAutoClaimReply(
        await withBufferCommands(this.#client).xautoclaimBuffer(
          ...[stream, group, consumer, claimIdleMs, this.#claimCursor, 'COUNT', count],
        ),
      );
    } catch (error) {
      if (replyCode(error) !== 'NOGROUP') throw this.#error(error, 'take over idle entries of');
      await this.ensureGroup();
      return [];
    }
    this.#claimCursor = reply.cursor;
    // A finished sweep waits its interval; an unfinished one goes on at the next fetch.
    this.#nextClaimAt = reply.cursor === '0-0' ? Date.now() + this.#claimEveryMs : 0;
    const gone = [...reply.deleted, ...reply.entries.filter((e) => e.fields === null).map((e) => e.id)];
    await this.#deadLetterDeleted(gone);
    // Our own entries went idle (renewals stalled): they are ours already.
    const taken = reply.entries.filter((e) => e.fields !== null && !this.held.has(e.id));
    return this.#withCounts(taken);
  }

  /** Entries with their delivery counts, read from the pending list (this delivery included). */
  async #withCounts(entries: readonly RawEntry[]): Promise<Delivery[]> {
    if (entries.length === 0) return [];
    const { stream, group, consumer } = this.#options;
    const first = entries[0] as RawEntry;
    const last = entries[entries.length - 1] as RawEntry;
    const counts = parsePendingCounts(
      await this.#client
        .xpending(stream, group, first.id, last.id, entries.length + this.held.size + 10, consumer)
        .catch((error: unknown) => {
          throw this.#error(error, 'read delivery counts of');
        }),
    );
    return entries.map((entry) => ({ ...entry, deliveries: counts.get(entry.id) ?? 1 }));
  }

  /** Entries deleted (trimmed) before they were acked: recorded in the dead-letter stream, never silently lost. */
  async #deadLetterDeleted(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      this.#logger.warn(
        `redis streams: entry ${id} of ${this.#options.stream} was deleted before it was acked`,
      );
      const reason = new ErgonError(
        ErrorCode.CONNECTOR_ERROR,
        `entry ${id} was deleted from the stream (trimmed) before it was acked; its data is gone`,
      );
      await this.deadLetter(id, deadLetterFields({ reason, entry: id }, this.#options), false);
    }
  }

  /** Resets the idle time of held entries, so no other consumer takes them over while they are worked on. */
  async #renew(): Promise<void> {
    const ids = this.held.ids();
    if (ids.length === 0 || !this.#ready) return;
    const { stream, group, consumer } = this.#options;
    try {
      const lost = await touchEntries(this.#client, { stream, group, consumer, idleMs: 0, ids });
      const stillHeld = lost.filter((id) => this.held.has(id));
      if (stillHeld.length > 0) {
        this.#logger.warn(
          `redis streams: ${stillHeld.length} entries of ${stream} held by ${consumer} were taken over by another consumer ` +
            '(this process stalled longer than claimIdle); they may be processed twice',
          { ids: stillHeld.slice(0, 10) },
        );
      }
    } catch (error) {
      this.#logger.warn(`redis streams: renewing held entries of ${stream} failed; retrying`, {
        error: String(error),
      });
    }
  }

  #error(error: unknown, action: string): Error {
    return toConnectorError(error, { action, stream: this.#options.stream });
  }
}
