/**
 * Durable, multi-process claims on the lines of a file, built on one atomic
 * primitive: exclusive file creation (`O_EXCL`).
 *
 * For line `n` the state directory holds, in shard `lines/<n / 1000>/`:
 * - `n.done`: the line is finished (acked or dead-lettered). Permanent.
 * - `n.<g>.claim`: generation `g` of its claim, holding the owner's identity;
 *   its mtime is the owner's heartbeat.
 * - `n.<g>.released`: generation `g` given back (renamed from `.claim`).
 *
 * The live claim is the highest generation. Taking a line over (its owner died,
 * stopped heart-beating, or released it) means creating generation `g + 1`
 * exclusively, so of several contenders exactly one wins, with no lock to
 * break. An owner that lost its claim this way sees `g + 1` and stands down.
 *
 * @module
 */
import { mkdir, readFile, rename, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { createExclusive, errnoCode, exists, statOrUndefined, unlinkIfExists } from './fs-utils.js';
import { isProcessAlive, type Owner, parseOwner } from './owner.js';

/** A claim this process holds. */
export interface Claim {
  readonly line: number;
  readonly generation: number;
}

/** What {@link ClaimDirectory.claim} found. */
export type ClaimAttempt =
  | { readonly status: 'claimed'; readonly claim: Claim }
  | { readonly status: 'done' | 'busy' };

/** How a finished line ended. */
export type LineOutcome = 'ack' | 'dead-letter';

/** Options of {@link ClaimDirectory}. */
export interface ClaimDirectoryOptions {
  readonly dir: string;
  readonly owner: Owner;
  /** A claim whose heartbeat is older than this is taken over. */
  readonly staleMs: number;
  readonly fsync: boolean;
}

const SHARD = 1000;

/** The claim files of one source file. */
export class ClaimDirectory {
  readonly #options: ClaimDirectoryOptions;
  readonly #shards = new Set<number>();

  constructor(options: ClaimDirectoryOptions) {
    this.#options = options;
  }

  /** Claims `line` unless it is done or held by a live owner. */
  async claim(line: number): Promise<ClaimAttempt> {
    if (await exists(this.#donePath(line))) return { status: 'done' };
    let generation = 0;
    let latest: { path: string; released: boolean } | undefined;
    for (; ; generation++) {
      const found = await this.#generation(line, generation);
      if (!found) break;
      latest = found;
    }
    if (latest && !latest.released && !(await this.#isStale(latest.path))) return { status: 'busy' };
    await this.#ensureShard(line);
    const created = await createExclusive(
      this.#claimPath(line, generation),
      JSON.stringify(this.#options.owner),
      this.#options.fsync,
    );
    if (!created) return { status: 'busy' };
    // It may have finished between the first look and the claim.
    if (await exists(this.#donePath(line))) {
      await unlinkIfExists(this.#claimPath(line, generation));
      return { status: 'done' };
    }
    return { status: 'claimed', claim: { line, generation } };
  }

  /** Gives a claim back so any process may take the line; a no-op when it was already taken over. */
  async release(claim: Claim): Promise<void> {
    if (!(await this.isLatest(claim))) return;
    try {
      await rename(
        this.#claimPath(claim.line, claim.generation),
        this.#releasedPath(claim.line, claim.generation),
      );
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }

  /** Marks the line finished for good, then removes the claim file. */
  async complete(claim: Claim, outcome: LineOutcome): Promise<void> {
    await this.#ensureShard(claim.line);
    const record = JSON.stringify({ outcome, owner: this.#options.owner.id, at: new Date().toISOString() });
    await createExclusive(this.#donePath(claim.line), record, this.#options.fsync);
    await unlinkIfExists(this.#claimPath(claim.line, claim.generation));
  }

  /** True when no newer generation took the line over. */
  async isLatest(claim: Claim): Promise<boolean> {
    return (await this.#generation(claim.line, claim.generation + 1)) === undefined;
  }

  /** Renews the heartbeat of held claims. Returns the claims that were lost (their file is gone). */
  async heartbeat(claims: Iterable<Claim>): Promise<Claim[]> {
    const lost: Claim[] = [];
    const now = new Date();
    for (const claim of claims) {
      try {
        await utimes(this.#claimPath(claim.line, claim.generation), now, now);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') lost.push(claim);
        else throw error;
      }
    }
    return lost;
  }

  async #generation(line: number, generation: number) {
    const claimPath = this.#claimPath(line, generation);
    if (await statOrUndefined(claimPath)) return { path: claimPath, released: false };
    const releasedPath = this.#releasedPath(line, generation);
    if (await statOrUndefined(releasedPath)) return { path: releasedPath, released: true };
    return undefined;
  }

  /** Stale: its owner process on this host is gone, or its heartbeat is too old. */
  async #isStale(path: string): Promise<boolean> {
    const stats = await statOrUndefined(path);
    if (!stats) return true;
    const { owner } = this.#options;
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return true;
      throw error;
    }
    const holder = parseOwner(text);
    if (holder && holder.host === owner.host && holder.pid !== owner.pid && !isProcessAlive(holder.pid)) {
      return true;
    }
    return Date.now() - stats.mtimeMs > this.#options.staleMs;
  }

  async #ensureShard(line: number): Promise<void> {
    const shard = Math.floor(line / SHARD);
    if (this.#shards.has(shard)) return;
    await mkdir(join(this.#options.dir, 'lines', String(shard)), { recursive: true });
    this.#shards.add(shard);
  }

  #base(line: number): string {
    return join(this.#options.dir, 'lines', String(Math.floor(line / SHARD)), String(line));
  }
  #donePath(line: number): string {
    return `${this.#base(line)}.done`;
  }
  #claimPath(line: number, generation: number): string {
    return `${this.#base(line)}.${generation}.claim`;
  }
  #releasedPath(line: number, generation: number): string {
    return `${this.#base(line)}.${generation}.released`;
  }
}
