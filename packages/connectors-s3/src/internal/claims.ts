/**
 * Claims that survive a dead consumer: a lease marker object per claimed
 * object (`<leasePrefix><key below prefix>`, body `{ owner, token,
 * expiresAt }`), written again before a third of the lease has passed
 * since its last write. A marker whose last
 * write is older than the lease (plus a second: listings show seconds) is
 * expired, and its object can be claimed again.
 *
 * Two ways to make one claim win:
 * - conditional writes (`If-None-Match: *` for a new marker, `If-Match:
 *   <etag>` to take over an expired one): the server lets one writer win;
 * - read-after-write, for servers that ignore those headers (s3rver): each
 *   marker is written only if a listing just before showed it free, then
 *   after `claimSettle` the markers are listed again and a claim holds only
 *   where the marker's ETag is still the one this write got. Two claims of
 *   one object hold together only if one write reached the server more than
 *   `claimSettle` after the other's check: rare, and then a duplicate
 *   delivery (at least once), which the durable bridge absorbs.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { ErgonError, ErrorCode, type Logger } from '@ergon/core';
import type { ResolvedConnectorOptions } from '../options.js';
import type { ListedObject, S3Service } from '../service.js';
import { mapLimit, sleep } from './pool.js';

/** A claim this connector holds. */
export interface Lease {
  /** The claimed object's key. */
  readonly key: string;
  /** The marker's key. */
  readonly marker: string;
  /** The marker's ETag after this connector's last write. */
  etag: string;
  /** When this connector last wrote the marker (`Date.now()` as the write was sent: it is no older). */
  written: number;
  /** Found taken by another consumer: no longer renewed. */
  lost?: boolean;
}

/** Listings show seconds: a marker may be up to this much younger than its listed time. */
const LISTING_PRECISION_MS = 1000;

const unquote = (etag: string) => etag.replace(/^W\//, '').replaceAll('"', '');

/** The lease protocol of one connector. */
export class Claims {
  readonly #service: S3Service;
  readonly #options: ResolvedConnectorOptions;
  readonly #owner: string;
  readonly #logger: Logger;
  #conditional = false;

  constructor(service: S3Service, options: ResolvedConnectorOptions, logger: Logger) {
    this.#service = service;
    this.#options = options;
    this.#owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
    this.#logger = logger;
  }

  /** Whether claims use conditional writes (decided on start). */
  get conditional(): boolean {
    return this.#conditional;
  }

  /**
   * Decides once, before the first claim, whether claims are conditional:
   * the service's `claims` option, and for `'auto'` or `'conditional'` a
   * probe of the server.
   * @throws ErgonError `CONNECTOR_ERROR` when `'conditional'` is asked of a server that ignores conditional writes.
   */
  async decide(): Promise<void> {
    const mode = this.#service.options.claims;
    if (mode === 'read-after-write') return;
    const conditional = await this.#service.conditionalWrites(this.#options.leasePrefix);
    if (!conditional && mode === 'conditional') {
      throw new ErgonError(
        ErrorCode.CONNECTOR_ERROR,
        `s3: the server at ${this.#service.options.endpoint ?? 'AWS'} ignores conditional writes (If-None-Match): ` +
          "use claims: 'read-after-write' (best effort) or a server that honours them",
      );
    }
    this.#conditional = conditional;
  }

  /** The marker key of an object key. */
  markerOf(key: string): string {
    return `${this.#options.leasePrefix}${key.slice(this.#options.prefix.length)}`;
  }

  /** The object key of a marker key. */
  keyOf(marker: string): string {
    return `${this.#options.prefix}${marker.slice(this.#options.leasePrefix.length)}`;
  }

  /** Every marker (after the marker key `after`, in key order, when given), by object key. */
  async markers(after?: string): Promise<Map<string, ListedObject>> {
    const out = new Map<string, ListedObject>();
    for (let startAfter = after; ; ) {
      const page = await this.#service.list(this.#options.leasePrefix, { startAfter });
      for (const marker of page.objects) out.set(this.keyOf(marker.key), marker);
      if (!page.truncated || page.objects.length === 0) return out;
      startAfter = page.objects[page.objects.length - 1]?.key;
    }
  }

  /** True while a listed marker's lease may still run. */
  live(marker: ListedObject): boolean {
    return marker.lastModified + this.#options.leaseMs + LISTING_PRECISION_MS > this.#service.now();
  }

  /** How many objects under the prefix have no live lease marker. */
  async countUnclaimed(): Promise<number> {
    const [objects, markers] = await Promise.all([
      this.#service.listAll(this.#options.prefix),
      this.markers(),
    ]);
    return objects.filter((o) => {
      const marker = markers.get(o.key);
      return !marker || !this.live(marker);
    }).length;
  }

  /** Claims what it can of `keys` (none held here); returns the leases won. */
  async claim(keys: readonly string[]): Promise<Lease[]> {
    const { concurrency, claimSettleMs } = this.#options;
    // In the server's key order (UTF-8 bytes): a listing taken again for the i-th key need only
    // start after the key before it, since the writes take the keys in this order.
    const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const check = await this.#checks(sorted);
    const written = await mapLimit(sorted, concurrency, async (key, i): Promise<Lease | undefined> => {
      const markers = await check(i);
      const previous = markers.get(key);
      if (previous && this.live(previous)) return undefined;
      const marker = this.markerOf(key);
      const sentAt = Date.now();
      const etag = await this.#service.put(marker, this.#body(), {
        contentType: 'application/json',
        ...(this.#conditional ? (previous ? { ifMatch: previous.etag } : { ifAbsent: true }) : {}),
      });
      return etag === undefined ? undefined : { key, marker, etag, written: sentAt };
    });
    const won = written.filter((lease): lease is Lease => lease !== undefined);
    if (this.#conditional || won.length === 0) return won;
    await sleep(claimSettleMs);
    const after = await this.markers();
    const kept = won.filter((lease) => unquote(after.get(lease.key)?.etag ?? '') === unquote(lease.etag));
    // Lost races: the winner's marker stays; nothing to undo.
    return kept;
  }

  /**
   * Lists the markers now, then returns what the write of `keys[i]` is
   * checked against. Read-after-write holds only while a write follows its
   * check closely: once the listing is older than `claimSettle / 2` it is
   * taken again (one listing for every write waiting on it), so a round
   * writes every marker, not just those its first listing was fresh enough
   * for. Writes ask in key order, and the first to ask for a new listing
   * has the lowest key of those that use it: the listing starts after the
   * key before it (not the markers just written, whose number grows).
   */
  async #checks(keys: readonly string[]): Promise<(i: number) => Promise<Map<string, ListedObject>>> {
    const { claimSettleMs } = this.#options;
    let markers = await this.markers();
    let at = Date.now();
    let listing: Promise<Map<string, ListedObject>> | undefined;
    return async (i) => {
      if (this.#conditional || Date.now() - at <= claimSettleMs / 2) return markers;
      const before = keys[i - 1];
      // Each write gets the listing it waited for (a later one may start after its key).
      listing ??= this.markers(before === undefined ? undefined : this.markerOf(before))
        .then((again) => {
          markers = again;
          at = Date.now();
          return again;
        })
        .finally(() => {
          listing = undefined;
        });
      return listing;
    };
  }

  /**
   * Writes the markers of held leases again; returns those found taken by
   * another consumer (never renewed again). `held` says which are still held
   * once the markers are listed (settlements go on meanwhile).
   */
  async renew(all: readonly Lease[], held: (lease: Lease) => boolean): Promise<Lease[]> {
    const leases = all.filter((lease) => !lease.lost);
    if (leases.length === 0) return [];
    // The ETags as of the listing: a settlement may rewrite or drop a marker meanwhile.
    const expected = new Map(leases.map((lease) => [lease, lease.etag]));
    const current = this.#conditional ? undefined : await this.markers();
    const lost: Lease[] = [];
    await mapLimit(leases, this.#options.concurrency, async (lease) => {
      if (!held(lease)) return;
      if (current && unquote(current.get(lease.key)?.etag ?? '') !== unquote(expected.get(lease) ?? '')) {
        lost.push(lease);
        return;
      }
      const sentAt = Date.now();
      const etag = await this.#service.put(lease.marker, this.#body(), {
        contentType: 'application/json',
        ...(this.#conditional ? { ifMatch: lease.etag } : {}),
      });
      if (etag === undefined) lost.push(lease);
      else {
        lease.etag = etag;
        lease.written = sentAt;
      }
    });
    for (const lease of lost) lease.lost = true;
    if (lost.length > 0) {
      this.#logger.warn(
        `s3: ${lost.length} objects held here were claimed by another consumer ` +
          '(this process stalled longer than the lease); they may be processed twice',
        { keys: lost.slice(0, 10).map((l) => l.key) },
      );
    }
    return lost;
  }

  #body(): string {
    return JSON.stringify({
      owner: this.#owner,
      token: randomUUID(),
      expiresAt: new Date(this.#service.now() + this.#options.leaseMs).toISOString(),
    });
  }
}
