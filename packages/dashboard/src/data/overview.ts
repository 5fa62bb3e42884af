/**
 * The overview and the workers, computed from Client pages and the worker
 * registry (`client.workers()`): one scan of the
 * unfinished flows (pending, running, suspended) and one per finished status,
 * each stopping at `limit` flows. The store has no count or group-by query, so
 * counts past the limit read "limit+", and per-minute figures come from the
 * flows scanned. Results are cached briefly and recomputed once for many pages.
 *
 * @module
 */
import type { FlowStatus } from '@ergon/core';
import type { Client, FlowInfo, WorkerView as RegisteredWorker } from '@ergon/executor';
import type { Overview, WorkerView } from '../api-types.js';

type Summary = Omit<FlowInfo, 'history' | 'signals'>;

const PAGE = 1000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Scans of the store behind the overview and workers pages. */
export class OverviewSource {
  readonly #client: Client;
  readonly #limit: number;
  readonly #ttlMs: number;
  #cached: { at: number; value: Promise<Overview> } | undefined;

  constructor(client: Client, options: { limit?: number; ttlMs?: number } = {}) {
    this.#client = client;
    this.#limit = options.limit ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 1500;
  }

  /** The overview, at most `ttlMs` old (concurrent callers share one computation). */
  get(): Promise<Overview> {
    const now = Date.now();
    if (this.#cached && now - this.#cached.at < this.#ttlMs) return this.#cached.value;
    const value = this.#compute();
    this.#cached = { at: now, value };
    value.catch(() => {
      if (this.#cached?.value === value) this.#cached = undefined;
    });
    return value;
  }

  /** The workers: the store's registry, and lease owners of running flows that are not in it. */
  async workers(): Promise<readonly WorkerView[]> {
    const [registered, running] = await Promise.all([this.#client.workers(), this.#scan(['running'])]);
    return workersOf(registered, running.flows, Date.now());
  }

  async #compute(): Promise<Overview> {
    const t0 = performance.now();
    const [registered, active, completed, failed, cancelled] = await Promise.all([
      this.#client.workers(),
      this.#scan(['pending', 'running', 'suspended']),
      this.#scan(['completed']),
      this.#scan(['failed']),
      this.#scan(['cancelled']),
    ]);
    const now = Date.now();
    const all = [...active.flows, ...completed.flows, ...failed.flows, ...cancelled.flows];
    const count = (status: FlowStatus, scan: Scan) => {
      const n = scan.flows.filter((f) => f.status === status).length;
      return { count: n, capped: scan.capped };
    };
    const terminal = (scan: Scan) => ({ count: scan.flows.length, capped: scan.capped });
    const types = new Map<string, number>();
    const queues = new Map<string, { count: number; ready: number }>();
    for (const f of all) {
      types.set(f.type, (types.get(f.type) ?? 0) + 1);
      const q = queues.get(f.queue) ?? { count: 0, ready: 0 };
      q.count++;
      if (f.status === 'pending' && (f.runAt ?? 0) <= now) q.ready++;
      queues.set(f.queue, q);
    }
    const start = Math.floor((now - HOUR) / MINUTE) * MINUTE + MINUTE;
    const perMinute = Array.from({ length: 60 }, (_, i) => ({
      t: start + i * MINUTE,
      started: 0,
      finished: 0,
      failed: 0,
    }));
    const bucket = (t: number | undefined) =>
      t === undefined || t < start ? undefined : perMinute[Math.floor((t - start) / MINUTE)];
    for (const f of all) {
      const b = bucket(f.createdAt);
      if (b) b.started++;
      const e = bucket(f.finishedAt);
      if (e && f.status === 'failed') e.failed++;
      else if (e) e.finished++;
    }
    const timers = active.flows
      .filter((f) => f.status === 'suspended')
      .flatMap((f) =>
        f.waits.flatMap((w) =>
          w.kind === 'timer' && w.at <= now + HOUR ? [{ flowId: f.id, type: f.type, at: w.at }] : [],
        ),
      )
      .sort((a, b) => a.at - b.at)
      .slice(0, 50);
    return {
      byStatus: {
        pending: count('pending', active),
        running: count('running', active),
        suspended: count('suspended', active),
        completed: terminal(completed),
        failed: terminal(failed),
        cancelled: terminal(cancelled),
      },
      byType: sorted(types).map(([name, n]) => ({ name, count: n })),
      byQueue: [...queues].sort((a, b) => b[1].count - a[1].count).map(([name, q]) => ({ name, ...q })),
      sample: all.length,
      perMinute,
      timers,
      workers: workersOf(registered, active.flows, now),
      limit: this.#limit,
      ms: Math.round(performance.now() - t0),
    };
  }

  async #scan(status: FlowStatus[]): Promise<Scan> {
    const flows: Summary[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.#client.list({ status, limit: PAGE, cursor });
      flows.push(...page.flows);
      cursor = page.nextCursor;
      if (cursor === undefined) return { flows, capped: false };
      if (flows.length >= this.#limit) return { flows, capped: true };
    }
  }
}

interface Scan {
  readonly flows: readonly Summary[];
  readonly capped: boolean;
}

/** The registered workers, then the lease owners of running flows that are not registered. */
export function workersOf(
  registered: readonly RegisteredWorker[],
  flows: readonly Summary[],
  now: number,
): WorkerView[] {
  const known = new Set(registered.map((w) => w.id));
  const byOwner = new Map<string, Summary[]>();
  for (const f of flows) {
    if (f.status !== 'running' || f.leaseOwner === undefined || known.has(f.leaseOwner)) continue;
    const list = byOwner.get(f.leaseOwner) ?? [];
    list.push(f);
    byOwner.set(f.leaseOwner, list);
  }
  const fromRegistry = registered.map((w): WorkerView => {
    const expiries = w.flows.map((f) => f.leaseExpiresAt).filter((x): x is number => x !== undefined);
    return {
      id: w.id,
      registered: true,
      kind: w.kind,
      name: w.name,
      host: w.host,
      pid: w.pid,
      queues: w.queues,
      types: w.types,
      versions: versionsOf(w.stats),
      concurrency: w.concurrency,
      heartbeatAgeMs: w.heartbeatAgeMs,
      stats: statsWithoutVersions(w.stats),
      flows: w.flows.map((f) => ({ id: f.flowId, type: f.type, leaseExpiresAt: f.leaseExpiresAt })),
      nextExpiry: expiries.length > 0 ? Math.min(...expiries) : undefined,
    };
  });
  const ownersOnly = [...byOwner].map(([id, held]): WorkerView => {
    // The Worker's default id is `<host>-<pid>-<8 characters>`.
    const match = /^(.+)-(\d+)-[0-9a-f]{8}$/i.exec(id);
    const expiries = held.map((f) => f.leaseExpiresAt).filter((x): x is number => x !== undefined);
    return {
      id,
      registered: false,
      host: match?.[1],
      pid: match ? Number(match[2]) : undefined,
      lastWriteAgeMs: Math.max(0, now - Math.max(...held.map((f) => f.updatedAt))),
      flows: held.map((f) => ({ id: f.id, type: f.type, leaseExpiresAt: f.leaseExpiresAt })),
      nextExpiry: expiries.length > 0 ? Math.min(...expiries) : undefined,
    };
  });
  return [...fromRegistry, ...ownersOnly].sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The code versions a worker serves, per flow type, as its registry entry reports them
 * (`stats.versions`); undefined when it reports none (it serves every recorded version).
 */
function versionsOf(stats: Readonly<Record<string, unknown>>): Record<string, string[]> | undefined {
  const reported = stats.versions;
  if (typeof reported !== 'object' || reported === null || Array.isArray(reported)) return undefined;
  const versions: Record<string, string[]> = {};
  for (const [type, list] of Object.entries(reported))
    if (Array.isArray(list)) versions[type] = list.map(String);
  return Object.keys(versions).length > 0 ? versions : undefined;
}

/** The counters without the versions (shown on their own). */
function statsWithoutVersions(stats: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { versions: _versions, ...rest } = stats;
  return rest;
}

function sorted(map: Map<string, number>): [string, number][] {
  return [...map].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
