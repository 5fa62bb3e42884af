/**
 * One fetch: room under the in-flight bound (lines given back first), then
 * list, claim and read objects until the fetch has what it wants, or list
 * again every `pollInterval` up to `fetchWait` when there are none. For JSON
 * lines a running mean of lines per object decides how many objects to
 * claim, so a fetch claims no more objects than it needs.
 *
 * @module
 */
import type { Transaction } from '@ergon/core';
import type { ResolvedConnectorOptions } from '../options.js';
import type { Claims } from './claims.js';
import type { HeldObjects } from './held.js';
import type { Listing } from './listing.js';
import type { Objects } from './objects.js';
import { mapLimit, sleep } from './pool.js';

/** What a {@link Fetcher} works with: the connector's parts. */
export interface FetcherParts {
  readonly options: ResolvedConnectorOptions;
  readonly held: HeldObjects;
  readonly listing: Listing;
  readonly claims: Claims;
  readonly objects: Objects;
}

/** Fetches of one connector (one at a time: the connector runs them in series). */
export class Fetcher {
  readonly #parts: FetcherParts;
  /** JSON lines: lines per object seen so far (a running mean), to claim no more objects than a fetch needs. */
  #linesPerObject = Number.POSITIVE_INFINITY;

  constructor(parts: FetcherParts) {
    this.#parts = parts;
    // One object per transaction, except JSON lines, whose first fetch claims one object to learn their size.
    if (parts.options.format !== 'json-lines') this.#linesPerObject = 1;
  }

  /**
   * Up to `limit` transactions, now held. `halt` is the connector's stop;
   * `onHeld` is called when the fetch ends with objects held.
   */
  async fetch(
    limit: number,
    options: { halt: AbortSignal; signal?: AbortSignal | undefined; onHeld: () => void },
  ): Promise<Transaction[]> {
    const { held, listing, claims, objects } = this.#parts;
    const { halt } = options;
    if (halt.aborted || options.signal?.aborted) return [];
    const signal = options.signal ? AbortSignal.any([halt, options.signal]) : halt;
    const { fetchWaitMs, pollIntervalMs, maxInFlight, concurrency } = this.#parts.options;
    const room = await held.room(maxInFlight, {
      signal,
      timeoutMs: fetchWaitMs,
      stopped: () => halt.aborted,
    });
    if (room === 0) return [];
    const want = Math.min(limit, room);
    const out = held.takeAgain(want);
    const deadline = Date.now() + fetchWaitMs;
    while (out.length < want && !signal.aborted) {
      let candidates: Awaited<ReturnType<Listing['next']>>;
      try {
        // JSON lines: about as many objects as the lines still wanted need.
        const count = Math.max(1, Math.ceil((want - out.length) / this.#linesPerObject));
        candidates = await listing.next(count, (key) => held.has(key), signal);
      } catch (error) {
        // An abort ends a listing, never a claim: what is claimed is returned.
        if (signal.aborted) break;
        throw error;
      }
      if (candidates.length === 0) {
        if (out.length > 0 || Date.now() >= deadline) break;
        await sleep(Math.min(pollIntervalMs, deadline - Date.now()), signal);
        listing.restart();
        continue;
      }
      const listed = new Map(candidates.map((c) => [c.key, c]));
      const leases = await claims.claim([...listed.keys()]);
      const read = await mapLimit(leases, concurrency, (lease) =>
        objects.read(lease, listed.get(lease.key) ?? { key: lease.key, etag: '', size: 0, lastModified: 0 }),
      );
      for (const txs of read) out.push(...txs);
      if (this.#parts.options.format === 'json-lines' && read.length > 0) {
        const lines = read.reduce((sum, txs) => sum + txs.length, 0) / read.length;
        const mean = Number.isFinite(this.#linesPerObject) ? (this.#linesPerObject + lines) / 2 : lines;
        this.#linesPerObject = Math.max(1, mean);
      }
    }
    for (const surplus of out.splice(want)) held.again(surplus);
    if (held.count > 0) options.onHeld();
    return out;
  }
}
