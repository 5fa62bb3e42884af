/**
 * What happens to claimed objects: read into transactions (what cannot be
 * one is dead-lettered), finished (moved under the done prefix or
 * deleted), dead-lettered with the reason, or released for another
 * delivery. Deletions go in batches, the object before its lease marker,
 * so nobody can claim an object that is finished but still there. The
 * objects finished in one turn (a batch's acks) move together: their copies
 * at the connector's concurrency, then one deletion of the objects and one
 * of their markers, and their acks resolve together.
 *
 * @module
 */
import {
  createTransaction,
  ErrorCode,
  InvalidArgumentError,
  isValidId,
  SerializationError,
  type Transaction,
} from '@ergon/core';
import { deadLetterMetadata } from '../dead-letters.js';
import { decodeObject } from '../formats.js';
import type { ResolvedConnectorOptions } from '../options.js';
import type { ListedObject, S3Service } from '../service.js';
import { Batcher, type FlushFailures } from './batcher.js';
import type { Lease } from './claims.js';
import type { HeldObjects } from './held.js';
import type { Listing } from './listing.js';
import { fromUserMetadata, S3_METADATA } from './metadata.js';
import { mapLimit } from './pool.js';

/** The parts the object operations work with. */
export interface ObjectsContext {
  readonly service: S3Service;
  readonly options: ResolvedConnectorOptions;
  readonly held: HeldObjects;
  readonly listing: Listing;
}

/** Reads, finishes, dead-letters and releases the objects of one connector. */
export class Objects {
  readonly #c: ObjectsContext;
  readonly #deletes: Batcher<string>;
  readonly #finishing: Batcher<Lease>;

  constructor(context: ObjectsContext) {
    this.#c = context;
    this.#deletes = new Batcher((keys) => context.service.deleteMany(keys));
    this.#finishing = new Batcher((leases) => this.#finishAll(leases));
  }

  /** The key below the prefix (for the done, dead-letter and lease keys). */
  #relative(key: string): string {
    return key.slice(this.#c.options.prefix.length);
  }

  /**
   * The transactions of a claimed object, now held; an object that cannot
   * be read as any is dead-lettered (unread when over `maxObjectBytes`), one
   * that is gone (finished meanwhile) is let go.
   */
  async read(lease: Lease, listed: ListedObject): Promise<Transaction[]> {
    const { service, options, held } = this.#c;
    const { key } = lease;
    if (listed.size > options.maxObjectBytes) {
      const head = await service.head(key);
      if (!head) return this.#forget(lease);
      await this.#deadLetterWhole(lease, head.metadata, tooLarge(key, head.size, options.maxObjectBytes));
      return [];
    }
    const object = await service.get(key);
    if (!object) return this.#forget(lease);
    if (object.body.byteLength > options.maxObjectBytes) {
      await this.#deadLetterWhole(
        lease,
        object.metadata,
        tooLarge(key, object.body.byteLength, options.maxObjectBytes),
      );
      return [];
    }
    const metadata = fromUserMetadata(object.metadata);
    const entries = decodeObject(object.body, options.format, key);
    const whole = entries.length === 1 && entries[0]?.line === undefined ? entries[0] : undefined;
    const invalidKey = !isValidId(options.format === 'json-lines' ? `${key}#1` : key);
    if (invalidKey || whole?.error !== undefined) {
      const reason = invalidKey ? invalidId(key) : whole?.error;
      await this.#deadLetterWhole(lease, object.metadata, reason);
      return [];
    }
    const out: Transaction[] = [];
    const open = new Set<number>();
    for (const entry of entries) {
      const line = entry.line ?? 0;
      const id = entry.line === undefined ? key : `${key}#${entry.line}`;
      let reason = entry.error;
      if (reason === undefined) {
        try {
          const own: Record<string, string> = {
            [S3_METADATA.bucket]: service.bucket,
            [S3_METADATA.key]: key,
          };
          if (entry.line !== undefined) own[S3_METADATA.line] = String(entry.line);
          // Each entry's payload was decoded just now from the body: frozen in place, not copied again.
          out.push(
            createTransaction(
              { id, payload: entry.payload, metadata: { ...metadata, ...own } },
              { decoded: true },
            ),
          );
          open.add(line);
          continue;
        } catch (error) {
          reason = error;
        }
      }
      if (entry.line === undefined) {
        await this.#deadLetterWhole(lease, object.metadata, reason);
        return [];
      }
      await this.#deadLetterLine(key, entry.line, entry.text ?? '', object.metadata, reason);
    }
    held.add(key, { lease, metadata: object.metadata, open });
    if (open.size === 0) await this.finish(key);
    return out;
  }

  /** Finishes a held object whose transactions are all settled: moved under the done prefix (or deleted). */
  async finish(key: string): Promise<void> {
    const { held } = this.#c;
    const object = held.get(key);
    if (!object) return;
    // Let go first: renewals must not see the marker vanish under a lease they still count.
    held.drop(key);
    await this.#finishing.add(object.lease);
  }

  /**
   * Finishes objects let go: each copied under the done prefix (`ack:
   * 'move'`), then the objects deleted, then their markers. An object whose
   * copy failed keeps its object and marker (its lease runs out, it comes
   * back) and fails alone.
   */
  async #finishAll(leases: readonly Lease[]): Promise<FlushFailures> {
    const { service, options } = this.#c;
    const failed: unknown[] = [];
    if (options.ack === 'move') {
      await mapLimit(leases, options.concurrency, async ({ key }, i) => {
        await service.copy(key, `${options.donePrefix}${this.#relative(key)}`).catch((error: unknown) => {
          failed[i] = error;
        });
      });
    }
    const moved = failed.length === 0 ? leases : leases.filter((_, i) => failed[i] === undefined);
    await service.deleteMany(moved.map((lease) => lease.key));
    await service.deleteMany(moved.map((lease) => lease.marker));
    return failed;
  }

  /** Dead-letters a held object with `reason` (its whole body, original metadata kept). */
  async deadLetter(key: string, reason: unknown): Promise<void> {
    const object = this.#c.held.get(key);
    if (!object) return;
    await this.#deadLetterWhole(object.lease, object.metadata, reason);
  }

  /** Dead-letters one line of a held JSON-lines object, as an object of its own, and settles the line. */
  async deadLetterLine(transaction: Transaction, line: number, reason: unknown): Promise<void> {
    const key = transaction.metadata[S3_METADATA.key] as string;
    const object = this.#c.held.get(key);
    if (!object) return;
    await this.#deadLetterLine(key, line, JSON.stringify(transaction.payload), object.metadata, reason);
    this.#c.held.settle(key, line);
    if (object.open.size === 0) await this.finish(key);
  }

  /** Gives a held object back: its marker deleted, and handed out again by this connector's next fetch. */
  async release(key: string): Promise<void> {
    const { held, listing } = this.#c;
    const object = held.get(key);
    if (!object) return;
    held.drop(key);
    await this.#deletes.add(object.lease.marker);
    listing.retry({ key, etag: '', size: 0, lastModified: 0 });
  }

  /** Deletes the markers of every held object (a stop); another consumer's next pass takes them. */
  async releaseAll(): Promise<void> {
    const markers = this.#c.held.leases().map((lease) => lease.marker);
    this.#c.held.clear();
    await this.#c.service.deleteMany(markers);
  }

  async #deadLetterWhole(
    lease: Lease,
    metadata: Readonly<Record<string, string>>,
    reason: unknown,
  ): Promise<void> {
    const { service, options, held } = this.#c;
    held.drop(lease.key);
    const to = `${options.deadLetterPrefix}${this.#relative(lease.key)}`;
    if (await service.copy(lease.key, to, deadLetterMetadata(metadata, reason, lease.key))) {
      await this.#deletes.add(lease.key);
    }
    await this.#deletes.add(lease.marker);
  }

  async #deadLetterLine(
    key: string,
    line: number,
    text: string,
    metadata: Readonly<Record<string, string>>,
    reason: unknown,
  ): Promise<void> {
    const { service, options } = this.#c;
    await service.put(`${options.deadLetterPrefix}${this.#relative(key)}#${line}`, `${text}\n`, {
      contentType: 'application/x-ndjson',
      metadata: deadLetterMetadata(metadata, reason, `${key}#${line}`),
    });
  }

  /** An object finished by another consumer meanwhile: its marker goes, nothing is delivered. */
  async #forget(lease: Lease): Promise<Transaction[]> {
    await this.#deletes.add(lease.marker);
    return [];
  }
}

function tooLarge(key: string, bytes: number, maxBytes: number): SerializationError {
  return new SerializationError(
    ErrorCode.CODEC_TOO_LARGE,
    `object ${key} is ${bytes} bytes, over maxObjectBytes (${maxBytes}): raise maxObjectBytes, or split the object`,
    { details: { bytes, maxBytes } },
  );
}

function invalidId(key: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `the key ${JSON.stringify(key.slice(0, 120))} cannot be a transaction id: ` +
      'rename the object with 1–512 characters from A–Z a–z 0–9 and _ . : @ / + = # ~ -',
    { code: ErrorCode.INVALID_ID },
  );
}
