/**
 * The in-memory store's flow records as plain functions: a new record, what
 * finishing one sets, whether one is claimable, the reads over all of them
 * (listing, the next wake-up) and whether a wait has resolved. The store's
 * core (`in-memory-core.ts`) keeps the maps and the events, its calls the
 * order of changes.
 *
 * @module
 */
import type {
  FlowPage,
  NewFlow,
  NormalizedFlowQuery,
  ReleaseRequest,
  SuspendRequest,
  WakeFilter,
} from './execution-log.js';
import { encodeCursor } from './query.js';
import { type FlowRecord, isTerminalStatus, type SignalRecord, type Wait } from './records.js';

/** Every field of `T`, each present (an absent one as undefined): a copy that misses none. */
export type EveryField<T> = { [K in keyof Required<T>]: T[K & keyof T] };

/** A record the store changes in place. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A frozen copy for callers: they never see later changes. One literal of every field (absent
 * ones undefined): V8 freezes an object of one fixed shape along a transition it keeps, where
 * freezing a spread copy built a new hidden class on every call (~1 µs, a few per flow).
 */
export function snapshot(flow: FlowRecord): FlowRecord {
  return Object.freeze({
    id: flow.id,
    type: flow.type,
    queue: flow.queue,
    status: flow.status,
    priority: flow.priority,
    input: flow.input,
    result: flow.result,
    error: flow.error,
    parentId: flow.parentId,
    runAt: flow.runAt,
    fencingToken: flow.fencingToken,
    leaseOwner: flow.leaseOwner,
    leaseExpiresAt: flow.leaseExpiresAt,
    waits: Object.freeze([...flow.waits]),
    cancelRequested: flow.cancelRequested,
    runCount: flow.runCount,
    abandonedRuns: flow.abandonedRuns,
    lastError: flow.lastError,
    damage: flow.damage,
    progress: flow.progress,
    progressAt: flow.progressAt,
    traceContext: flow.traceContext,
    concurrencyKey: flow.concurrencyKey,
    concurrencyLimit: flow.concurrencyLimit,
    debounceKey: flow.debounceKey,
    fairTag: flow.fairTag,
    createdAt: flow.createdAt,
    updatedAt: flow.updatedAt,
    finishedAt: flow.finishedAt,
  } satisfies EveryField<FlowRecord>);
}

/** The record of a flow `createFlow` makes: pending, never claimed. */
export function newFlowRecord(input: NewFlow): Mutable<FlowRecord> {
  return {
    id: input.id,
    type: input.type,
    queue: input.queue,
    status: 'pending',
    priority: input.priority,
    input: input.input,
    parentId: input.parentId,
    runAt: input.runAt,
    fencingToken: 0,
    waits: [],
    cancelRequested: false,
    runCount: 0,
    abandonedRuns: 0,
    traceContext: input.traceContext,
    createdAt: input.now,
    updatedAt: input.now,
  };
}

/** Moves `flow` to a terminal status, without a lease, waits or run state. */
export function setFinished(
  flow: Mutable<FlowRecord>,
  status: 'completed' | 'failed' | 'cancelled',
  now: number,
  values: { result?: string | undefined; error?: string | undefined },
): void {
  flow.status = status;
  flow.result = status === 'completed' ? values.result : undefined;
  // A cancel keeps the reason its request recorded.
  flow.error =
    status === 'completed' ? undefined : status === 'cancelled' ? (flow.error ?? values.error) : values.error;
  flow.waits = [];
  flow.runAt = undefined;
  flow.leaseOwner = undefined;
  flow.leaseExpiresAt = undefined;
  flow.abandonedRuns = 0;
  flow.lastError = undefined;
  flow.finishedAt = now;
  flow.updatedAt = now;
}

/** Pending or suspended and due, or running with an expired lease. */
export function claimableAt(flow: FlowRecord, now: number): boolean {
  if (flow.status === 'pending' || flow.status === 'suspended')
    return flow.runAt !== undefined && flow.runAt <= now;
  return flow.status === 'running' && (flow.leaseExpiresAt ?? 0) <= now;
}

/** One page of `flows` matching `query`, newest first. */
export function listFlowsOf(flows: Iterable<FlowRecord>, query: NormalizedFlowQuery): FlowPage {
  const { statuses, limit, after } = query;
  const matches = [...flows]
    .filter(
      (f) =>
        (!statuses || statuses.includes(f.status)) &&
        (query.type === undefined || f.type === query.type) &&
        (query.queue === undefined || f.queue === query.queue) &&
        (query.parentId === undefined || f.parentId === query.parentId) &&
        (query.since === undefined || f.createdAt >= query.since) &&
        (!after || f.createdAt < after.createdAt || (f.createdAt === after.createdAt && f.id < after.id)),
    )
    .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const page = matches.slice(0, limit);
  const last = page[page.length - 1];
  return {
    flows: page.map(snapshot),
    nextCursor: matches.length > limit && last ? encodeCursor(last.createdAt, last.id) : undefined,
  };
}

/** The earliest due `runAt` or lease expiry among `flows` of the filter's types and queues. */
export function nextWakeOf(flows: Iterable<FlowRecord>, filter: WakeFilter): number | undefined {
  let next: number | undefined;
  for (const f of flows) {
    if (!filter.types.includes(f.type) || !filter.queues.includes(f.queue)) continue;
    const at =
      f.status === 'pending' || f.status === 'suspended'
        ? f.runAt
        : f.status === 'running'
          ? f.leaseExpiresAt
          : undefined;
    if (at !== undefined && (next === undefined || at < next)) next = at;
  }
  return next;
}

/** What a claim sets: running under a new lease and token (a lapsed lease counts as abandoned). */
export function setClaimed(flow: Mutable<FlowRecord>, workerId: string, now: number, leaseMs: number): void {
  // Its lease expired: that run was abandoned.
  if (flow.status === 'running') flow.abandonedRuns = (flow.abandonedRuns ?? 0) + 1;
  flow.status = 'running';
  flow.fencingToken += 1;
  flow.leaseOwner = workerId;
  flow.leaseExpiresAt = now + leaseMs;
  flow.runCount += 1;
  flow.waits = [];
  flow.updatedAt = now;
}

/** What a release sets: pending again at `retryAt` (or now); returns that time. */
export function setReleased(flow: Mutable<FlowRecord>, lease: ReleaseRequest): number {
  const runAt = lease.retryAt ?? lease.now;
  flow.status = 'pending';
  flow.runAt = runAt;
  flow.leaseOwner = undefined;
  flow.leaseExpiresAt = undefined;
  flow.updatedAt = lease.now;
  if (lease.error !== undefined) {
    flow.lastError = lease.error;
    flow.abandonedRuns = (flow.abandonedRuns ?? 0) + 1;
  }
  return runAt;
}

/** What a suspension sets: waiting on `waits`, due at the earliest timer if there is one. */
export function setSuspended(flow: Mutable<FlowRecord>, lease: SuspendRequest): void {
  const timers = lease.waits.filter((w) => w.kind === 'timer').map((w) => w.at);
  flow.status = 'suspended';
  flow.abandonedRuns = 0;
  flow.lastError = undefined;
  flow.waits = [...lease.waits];
  flow.runAt = timers.length > 0 ? Math.min(...timers) : undefined;
  flow.leaseOwner = undefined;
  flow.leaseExpiresAt = undefined;
  flow.updatedAt = lease.now;
}

/** True when one of `waits` has resolved: a due timer, a buffered signal, a finished child. */
export function anyResolved(
  waits: readonly Wait[],
  now: number,
  signals: readonly SignalRecord[],
  flows: ReadonlyMap<string, FlowRecord>,
): boolean {
  return waits.some((w) => {
    if (w.kind === 'timer') return w.at <= now;
    if (w.kind === 'signal') return signals.some((s) => s.name === w.name);
    const child = flows.get(w.flowId);
    return child !== undefined && isTerminalStatus(child.status);
  });
}
