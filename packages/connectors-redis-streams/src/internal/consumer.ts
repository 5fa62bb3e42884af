/**
 * One consumer of one group, on the protocol level: where deliveries come
 * from (its own unknown pending entries after a reconnect, entries a dead
 * consumer left behind, new entries), and what settles them (its
 * {@link EntrySettler}: XACK, a release to other consumers, the dead-letter
 * script). Knows nothing of transactions; the connector does.
 *
 * @module
 */
import type { Logger } from '@ergon/core';
import type { Redis } from 'ioredis';
import type { ResolvedStreamOptions } from '../options.js';
import type { RedisStreamsService } from '../service.js';
import { withTimeout } from './async.js';
import type { Delivery } from './entries.js';
import { replyCode, toConnectorError } from './errors.js';
import { HeldEntries } from './held.js';
import { PendingEntries } from './pending.js';
import { BlockingReader } from './reader.js';
import { HeldRenewal } from './renewal.js';
import { EntrySettler } from './settler.js';

/** The protocol side of fetching and settling for one stream, group and consumer. */
export class StreamConsumer {
  /** Fetched, unsettled entries. */
  readonly held = new HeldEntries();
  readonly #service: RedisStreamsService;
  readonly #options: ResolvedStreamOptions;
  readonly #logger: Logger;
  #reader: BlockingReader | undefined;
  #ready: Promise<void> | undefined;
  /** The group made (on the command connection), while the reading connection may still be opening. */
  #grouped: Promise<void> | undefined;
  readonly #renewal: HeldRenewal;
  readonly #pending: PendingEntries;
  /** XACK, releases and dead letters (see settler.ts). */
  readonly settler: EntrySettler;

  /**
   * `named`: the consumer name was given, so it may have pending entries
   * from before this process (a generated name is new: its first fetch need
   * not look for any).
   */
  constructor(service: RedisStreamsService, options: ResolvedStreamOptions, logger: Logger, named = true) {
    this.#service = service;
    this.#options = options;
    this.#logger = logger;
    this.#pending = new PendingEntries({
      get client() {
        return service.client;
      },
      options,
      held: this.held,
      logger,
      ensureGroup: () => this.ensureGroup(),
      deadLetter: (id, fields, onlyIfPending) => this.settler.deadLetter(id, fields, onlyIfPending),
      error: (error, action) => this.#error(error, action),
    });
    this.#pending.recover = named;
    const pending = this.#pending;
    this.settler = new EntrySettler({
      get client() {
        return service.client;
      },
      options,
      held: this.held,
      sweepAgain: () => pending.sweepAgain(),
      error: (error, action) => this.#error(error, action),
    });
    this.#renewal = new HeldRenewal(() => service.client, options, this.held, logger);
  }

  /** The command connection. */
  get #client(): Redis {
    return this.#service.client;
  }

  /**
   * Opens the reading connection, creates the group (and stream) if missing,
   * starts renewals. Idempotent. The group is made while the connection
   * opens: a fetch's sweeps over the command connection need only the group.
   */
  ready(): Promise<void> {
    if (this.#ready) return this.#ready;
    const opening = BlockingReader.open(this.#service, `read:${this.#options.consumer}`, () => {
      this.#pending.recover = true;
    });
    const grouped = this.ensureGroup();
    const ready = Promise.all([grouped, opening]).then(
      ([, reader]) => {
        this.#reader = reader;
        this.#client.on('ready', this.#onCommandReconnect);
        this.#renewal.start();
      },
      (error: unknown) => {
        if (this.#ready === ready) this.#ready = this.#grouped = undefined;
        // The other half may have succeeded: a reading connection opened for nothing is closed.
        opening.then(
          (reader) => reader.close(),
          () => undefined,
        );
        throw error;
      },
    );
    // A failure is seen by whoever waits on either (a fetch may wait on the group alone).
    grouped.catch(() => undefined);
    ready.catch(() => undefined);
    this.#grouped = grouped;
    this.#ready = ready;
    return ready;
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

  /** True when the next fetch must look at pending entries first (a recovery or a sweep is due). */
  get sweepDue(): boolean {
    return this.#pending.recover || Date.now() >= this.#pending.nextClaimAt;
  }

  /**
   * Up to `count` deliveries: first own pending entries nobody here knows of
   * (after a reconnect), then entries idle past `claimIdle` in any consumer
   * (when a sweep is due), then new entries, blocking up to `blockMs` only
   * when nothing else came and `wait`. Each delivery counts (XCLAIM,
   * XAUTOCLAIM and XREADGROUP raise the count), and carries its count.
   */
  async deliver(count: number, signal?: AbortSignal, wait = true): Promise<Delivery[]> {
    const ready = this.ready();
    // The sweeps go over the command connection while the reading one may still be opening.
    const early = this.#reader ? undefined : await this.#sweepWhileGrouping(count);
    const out: Delivery[] = [];
    try {
      if (early) out.push(...(await early.sweep));
      else {
        if (this.#pending.recover) out.push(...(await this.#pending.recoverOwn(count)));
        if (out.length < count && Date.now() >= this.#pending.nextClaimAt)
          out.push(...(await this.#pending.reclaim(count - out.length)));
      }
      await ready;
      if (out.length < count && !signal?.aborted) {
        const blockMs =
          out.length > 0 || !wait
            ? 0
            : Math.max(1, Math.min(this.#options.blockMs, this.#pending.nextClaimAt - Date.now()));
        const fresh = await this.#read(count - out.length, blockMs, signal);
        if (out.length === 0) return fresh;
        for (const delivery of fresh) out.push(delivery);
      }
    } catch (error) {
      // Entries delivered in a reply we did not get are pending here: look for them next time.
      this.#pending.recover = true;
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

  /**
   * Up to `count` new entries, read now without blocking (a read ahead),
   * each delivered for the first time; `acks` are acked in the same write
   * (`acked`: the XACK's reply). Nothing is read while the reading connection
   * is not up (the acks go over the command connection then). Both fail
   * after `commandTimeout`, as commands on the command connection do (the
   * reading connection has no timeout of its own: its reads block). Never
   * throws.
   */
  readNew(
    count: number,
    acks?: readonly string[],
  ): { acked: Promise<unknown> | undefined; read: Promise<Delivery[]> } {
    const reader = this.#reader;
    if (!reader?.up) return { acked: acks && this.settler.xack(acks), read: Promise.resolve([]) };
    const { stream, group, consumer } = this.#options;
    const timeoutMs = this.#service.options.commandTimeoutMs;
    const started = Date.now();
    const { acked, read } = reader.readNow({ stream, group, consumer, count }, acks);
    return {
      acked: acked && withTimeout(acked, timeoutMs),
      read: withTimeout(read, timeoutMs).then(
        (entries) => {
          // Empty that late: ioredis' safety net answered, not Redis (whose reply may have delivered entries).
          if (entries.length === 0 && Date.now() - started >= timeoutMs) this.#pending.recover = true;
          return entries;
        },
        (error: unknown) => {
          // Entries delivered in a reply we did not get are pending here: look for them next time.
          this.#pending.recover = true;
          throw this.#error(error, 'read from');
        },
      ),
    };
  }

  /**
   * Ends a blocked read, stops renewals, releases what is still held (`unread`,
   * entries read ahead and never handed out, as never delivered), closes the
   * reading connection.
   */
  async close(unread: readonly string[] = []): Promise<void> {
    this.#renewal.stop();
    const ready = this.#ready;
    this.#ready = this.#grouped = undefined;
    if (
      !ready ||
      !(await ready.then(
        () => true,
        () => false,
      ))
    )
      return;
    this.#service.client.off('ready', this.#onCommandReconnect);
    const fresh = new Set(unread);
    const held = this.held.ids();
    try {
      await this.settler.release(fresh.size === 0 ? held : held.filter((id) => !fresh.has(id)));
      await this.settler.release(
        unread.filter((id) => this.held.has(id)),
        0,
      );
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
    this.#pending.recover = true;
  }

  /** Something delivered here may be pending unknown (a failed dead-letter): look for it on the next fetch. */
  lostTrack(): void {
    this.#pending.recover = true;
  }

  readonly #onCommandReconnect = () => {
    this.#pending.recover = true;
  };

  async #read(count: number, blockMs: number, signal: AbortSignal | undefined): Promise<Delivery[]> {
    const reader = this.#reader as BlockingReader;
    const { stream, group, consumer } = this.#options;
    const started = Date.now();
    const read = () => reader.read({ stream, group, consumer, count, blockMs }, signal);
    let entries: Delivery[];
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
    if (entries.length === 0 && blockMs > 0 && Date.now() - started > blockMs + 1000)
      this.#pending.recover = true;
    return entries;
  }

  /**
   * Waits for the group (the first fetch makes it). A sweep that is due,
   * with no recovery before it, is sent first: its XAUTOCLAIM follows
   * XGROUP CREATE on the command connection, in order, so both are answered
   * in one round trip instead of one after the other. Resolves with that
   * sweep (undefined: none was sent); the group's failure is the one thrown.
   */
  async #sweepWhileGrouping(count: number): Promise<{ sweep: Promise<Delivery[]> } | undefined> {
    const sweep =
      !this.#pending.recover && Date.now() >= this.#pending.nextClaimAt
        ? this.#pending.reclaim(count)
        : undefined;
    try {
      await this.#grouped;
    } catch (error) {
      sweep?.catch(() => undefined);
      throw error;
    }
    return sweep && { sweep };
  }

  #error(error: unknown, action: string): Error {
    return toConnectorError(error, { action, stream: this.#options.stream });
  }
}
