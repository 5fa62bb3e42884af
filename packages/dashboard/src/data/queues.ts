/**
 * Queues for the dashboard: each queue's flow-control limits and what counts
 * against them now (`client.queues.state`), its pending flows and why they
 * wait (`waitingFor`), and its busiest concurrency keys.
 *
 * The store keeps limits per queue name but cannot list the queues that have
 * them, so the page shows the queues it can name: those live workers claim
 * from, those schedules start flows in, those with unfinished flows, and the
 * ones the request names. Each read is bounded, and a page is cached briefly.
 *
 * @module
 */
import type { FlowRecord, WaitingFor } from '@ergon/core';
import type { Client } from '@ergon/executor';
import type { QueueKeyView, QueuesPage, QueueView } from '../control-types.js';
import { reasonText } from '../internal/waiting.js';

/** Most queues one page shows. */
export const MAX_QUEUES = 50;
/** Most unfinished flows read per queue (and across queues, to find them). */
const SCAN = 1000;
/** Newest pending flows of a queue whose `waitingFor` is tallied. */
const SAMPLE = 200;
/** Keys listed per queue. */
const KEYS_SHOWN = 20;

/** Reads the Queues page. */
export class QueueSource {
  readonly #client: Client;
  readonly #ttlMs: number;
  #cached: { at: number; key: string; value: Promise<Omit<QueuesPage, 'ms'>> } | undefined;

  constructor(client: Client, options: { ttlMs?: number } = {}) {
    this.#client = client;
    this.#ttlMs = options.ttlMs ?? 1000;
  }

  /** The queues (those in `asked` first), at most `ttlMs` old. @throws InvalidArgumentError for a bad name. */
  get(asked: readonly string[]): Promise<Omit<QueuesPage, 'ms'>> {
    const key = JSON.stringify(asked);
    const now = Date.now();
    const cached = this.#cached;
    if (cached && cached.key === key && now - cached.at < this.#ttlMs) return cached.value;
    const value = this.#read(asked);
    this.#cached = { at: now, key, value };
    value.catch(() => {
      if (this.#cached?.value === value) this.#cached = undefined;
    });
    return value;
  }

  /** Forgets the cached page (after an action of ours). */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #read(asked: readonly string[]): Promise<Omit<QueuesPage, 'ms'>> {
    const client = this.#client;
    if (client.store.capabilities.flowControl !== true)
      return { supported: false, queues: [], moreQueues: false };
    const [workers, scheduled, active] = await Promise.all([
      client.workers(),
      client.store.schedules.supported
        ? client.store.schedules.listSchedules({ limit: SCAN })
        : Promise.resolve([]),
      client.store.listFlows({ status: ['pending', 'running'], limit: SCAN }),
    ]);
    const claimers = new Map<string, number>();
    for (const w of workers) for (const q of w.queues) claimers.set(q, (claimers.get(q) ?? 0) + 1);
    const found = new Set<string>([
      ...claimers.keys(),
      ...scheduled.map((s) => s.queue),
      ...active.flows.map((f) => f.queue),
    ]);
    const names = [...new Set([...asked, ...[...found].sort()])];
    const shown = names.slice(0, MAX_QUEUES);
    const now = Date.now();
    const queues = await Promise.all(shown.map((name) => this.#queue(name, claimers.get(name) ?? 0, now)));
    return { supported: true, queues, moreQueues: names.length > shown.length };
  }

  async #queue(name: string, workers: number, now: number): Promise<QueueView> {
    const client = this.#client;
    const [state, active, sample] = await Promise.all([
      client.queues.state(name),
      client.store.listFlows({ queue: name, status: ['pending', 'running'], limit: SCAN }),
      client.list({ queue: name, status: 'pending', limit: SAMPLE }),
    ]);
    let ready = 0;
    let delayed = 0;
    for (const f of active.flows) {
      if (f.status !== 'pending') continue;
      if ((f.runAt ?? 0) <= now) ready++;
      else delayed++;
    }
    const counts = new Map<WaitingFor, number>();
    for (const f of sample.flows)
      if (f.waitingFor !== undefined) counts.set(f.waitingFor, (counts.get(f.waitingFor) ?? 0) + 1);
    const waiting = [...counts].map(([reason, count]) => ({ reason, text: reasonText(reason), count }));
    const limits = state.limits;
    const keyed = keysOf(active.flows, now);
    const keys = await Promise.all(
      keyed.slice(0, KEYS_SHOWN).map(async (k): Promise<QueueKeyView> => {
        // The store's own count of the key's running flows (unexpired leases), not the page's.
        const own = await client.queues.state(name, k.key);
        return {
          key: k.key,
          running: own.keyRunning,
          queued: k.queued,
          limit: k.limit ?? limits?.keyConcurrency,
          weight: limits?.keyWeights?.[k.key],
        };
      }),
    );
    return {
      name,
      limits: limits && {
        concurrency: limits.concurrency,
        rate: limits.rate && { limit: limits.rate.limit, periodMs: limits.rate.periodMs },
        keyConcurrency: limits.keyConcurrency,
        keyWeights: limits.keyWeights,
      },
      running: state.running,
      recentStarts: state.recentStarts,
      ready,
      delayed,
      capped: active.nextCursor !== undefined,
      waiting,
      keys,
      moreKeys: keyed.length > keys.length,
      workers,
    };
  }
}

/** The concurrency keys of a queue's unfinished flows, busiest first. */
function keysOf(
  flows: readonly FlowRecord[],
  now: number,
): { key: string; running: number; queued: number; limit: number | undefined }[] {
  const keys = new Map<string, { key: string; running: number; queued: number; limit: number | undefined }>();
  for (const f of flows) {
    if (f.concurrencyKey === undefined) continue;
    const k = keys.get(f.concurrencyKey) ?? {
      key: f.concurrencyKey,
      running: 0,
      queued: 0,
      limit: f.concurrencyLimit,
    };
    if (f.status === 'running' && (f.leaseExpiresAt ?? 0) > now) k.running++;
    else if (f.status === 'pending') k.queued++;
    k.limit ??= f.concurrencyLimit;
    keys.set(f.concurrencyKey, k);
  }
  return [...keys.values()].sort(
    (a, b) => b.running - a.running || b.queued - a.queued || a.key.localeCompare(b.key),
  );
}
