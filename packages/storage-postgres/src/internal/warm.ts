/**
 * Warming the pool the store made: right after open, in the background, the
 * connections it keeps open are made and the statements of a worker's cycle
 * (claim, batch of writes, batch that claims, notify) prepared on each, with values that match
 * no flow, so they read and write nothing.
 *
 * A new connection pays for its login, for loading the catalog entries of
 * each table and index a statement touches, for loading PL/pgSQL, and for
 * parsing and planning each statement once: the first claim on a connection
 * took 20 ms on a quiet bench machine and over 100 ms on a busy one, the first
 * batch of writes as long, against 1–2 ms for the next ones. A worker paid
 * that on its first flows, one connection after the other. Warmed, a
 * worker's first claim costs what the following ones do; a process that only
 * enqueues has spent a few ms of server time, once.
 *
 * @module
 */
import type { PostgresPool } from '../options.js';
import { checkout, rows } from './db.js';
import type { Queries } from './queries.js';

/** What to warm: `count` connections of `pool`, the statements `q` and the store's NOTIFY `channel`. */
export interface WarmRequest {
  readonly pool: PostgresPool;
  readonly q: Queries;
  readonly channel: string;
  readonly count: number;
}

/** Makes the connections and prepares the worker cycle's statements on each; never throws. */
export async function warmPool({ pool, q, channel, count }: WarmRequest): Promise<void> {
  // All taken before any is given back: `count` distinct connections.
  const taken = await Promise.allSettled(Array.from({ length: count }, () => checkout(pool)));
  await Promise.all(
    taken.map(async (t) => {
      if (t.status !== 'fulfilled') return;
      const { client, release } = t.value;
      let failed: Error | undefined;
      try {
        await rows(client, q.claimPark, NOTHING_TO_CLAIM);
        await rows(client, q.batch, NOTHING_TO_WRITE);
        await rows(client, q.batchClaim, { ...NOTHING_TO_WRITE, ...NOTHING_TO_CLAIM });
        await rows(client, q.notify, { channel, payloads: [] });
      } catch (error) {
        // Warming only saves time: a connection that failed is closed, and the pool makes another when needed.
        failed = error as Error;
      } finally {
        release(failed);
      }
    }),
  );
}

/** A claim of no queue and no type: it claims nothing and parks no one. */
const NOTHING_TO_CLAIM = {
  workerId: '',
  queues: [],
  types: [],
  now: 0,
  limit: 1,
  expiresAt: 0,
  park: false,
  handLeaseMs: 0,
};

/** A batch of no writes. */
const NOTHING_TO_WRITE = { records: '[]', finishes: '[]', recordCount: 0, finishCount: 0 };
