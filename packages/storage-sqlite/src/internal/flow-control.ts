/**
 * Flow control on SQLite (core's `queues.ts`): queue limits in the `queues`
 * table, each key's last fair-queueing tag in `queue_keys`, the starts of
 * rate-limited queues in `queue_starts`, de-duplication and debounce keys in
 * `flow_keys` (schema version 6, `flow-control-schema.ts`). Everything runs inside the store's
 * IMMEDIATE write transactions, so a claim's counts and its writes are one
 * atomic step across processes.
 *
 * Running flows are counted by unexpired lease (`flows_running`), never kept
 * as counters, so a dead worker's slots come back when its leases expire.
 *
 * @module
 */
import {
  type ClaimedFlow,
  type ClaimRequest,
  type ConfigureQueueRequest,
  FAIR_SCAN,
  type FlowRecord,
  fairStep,
  hasLimits,
  isTerminalStatus,
  type FlowStatus,
  type NewFlow,
  type QueueLimits,
  type QueueState,
  type QueueStateRequest,
} from '@ergon/core';
import type Database from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import type { TxContext } from './queries.js';
import type { FlowRow } from './rows.js';
import { toFlowRecord } from './rows.js';
import type { Schema } from './schema.js';
import { Prepared, param } from './statements.js';

/** A row of the `queues` table. */
export interface QueueRow {
  queue: string;
  limits: string | null;
  keyed: number;
  virtual: number;
}

/** A ready flow of a controlled queue, as a claim reads it. */
export interface FairCandidate {
  id: string;
  priority: number;
  fair_tag: number | null;
  run_at: number;
  concurrency_key: string | null;
  concurrency_limit: number | null;
}

/** The prepared statements of flow control. */
export function prepareFlowControlQueries(db: Database.Database, k: Kysely<Schema>) {
  const p = <Row = unknown>(text: () => ReturnType<typeof sql>) =>
    new Prepared<Row>(db, { compile: () => text().compile(k) });
  const str = (name: string) => param<string>(name);
  const num = (name: string) => param<number>(name);
  const nullable = (name: string) => param<string | number | null>(name);
  return {
    fcQueue: p<QueueRow>(() => sql`select * from queues where queue = ${str('queue')}`),
    fcSetLimits: p(
      () => sql`insert into queues (queue, limits) values (${str('queue')}, ${nullable('limits')})
                on conflict (queue) do update set limits = excluded.limits`,
    ),
    fcMarkKeyed: p(
      () => sql`insert into queues (queue, keyed) values (${str('queue')}, 1)
                on conflict (queue) do update set keyed = 1 where keyed = 0`,
    ),
    fcAdvance: p(
      () => sql`update queues set virtual = max(virtual, ${num('tag')}) where queue = ${str('queue')}`,
    ),
    fcLastTag: p<{ last_tag: number }>(
      () => sql`select last_tag from queue_keys where queue = ${str('queue')} and key = ${str('key')}`,
    ),
    fcSetLastTag: p(
      () => sql`insert into queue_keys (queue, key, last_tag) values (${str('queue')}, ${str('key')}, ${num('tag')})
                on conflict (queue, key) do update set last_tag = excluded.last_tag`,
    ),
    fcSetFlowFields: p(
      () => sql`update flows set concurrency_key = ${nullable('key')}, concurrency_limit = ${nullable('limit')},
                debounce_key = ${nullable('debounce')}, fair_tag = ${nullable('tag')}, run_at = ${num('runAt')}
                where id = ${str('id')}`,
    ),
    fcRunning: p<{ n: number }>(
      () => sql`select count(*) as n from flows indexed by flows_running
                where queue = ${str('queue')} and status = 'running' and lease_expires_at > ${num('now')}`,
    ),
    fcKeyRunning: p<{ key: string; n: number }>(
      () => sql`select concurrency_key as key, count(*) as n from flows indexed by flows_running
                where queue = ${str('queue')} and status = 'running' and concurrency_key is not null
                  and lease_expires_at > ${num('now')}
                group by concurrency_key`,
    ),
    fcOneKeyRunning: p<{ n: number }>(
      () => sql`select count(*) as n from flows indexed by flows_running
                where queue = ${str('queue')} and status = 'running' and concurrency_key = ${str('key')}
                  and lease_expires_at > ${num('now')}`,
    ),
    fcCandidates: p<FairCandidate>(
      () => sql`select id, priority, fair_tag, run_at, concurrency_key, concurrency_limit
                from flows indexed by flows_fair
                where queue = ${str('queue')} and type = ${str('type')} and wake_at <= ${num('now')}
                order by priority desc, fair_tag, run_at, id limit ${num('limit')} offset ${num('offset')}`,
    ),
    fcCandidate: p<FairCandidate & { queue: string; type: string }>(
      () => sql`select id, queue, type, priority, fair_tag, run_at, concurrency_key, concurrency_limit from flows
                where id = ${str('id')} and wake_at <= ${num('now')}`,
    ),
    // A start's effective time: its own, or the newest logged if that is later (logged times never go back).
    fcEffective: p<{ at: number }>(
      () => sql`select max(${num('now')}, coalesce(max(at), ${num('now')})) as at from queue_starts
                where queue = ${str('queue')}`,
    ),
    fcStarts: p<{ n: number }>(
      () => sql`select count(*) as n from queue_starts where queue = ${str('queue')} and at > ${num('from')}`,
    ),
    fcPruneStarts: p(
      () => sql`delete from queue_starts where queue = ${str('queue')} and at <= ${num('from')}`,
    ),
    fcAddStart: p(() => sql`insert into queue_starts (queue, at) values (${str('queue')}, ${num('now')})`),
    fcKey: p<{ flow_id: string; until: number | null }>(
      () => sql`select flow_id, until from flow_keys where kind = ${str('kind')} and key = ${str('key')}`,
    ),
    fcSetKey: p(
      () => sql`insert into flow_keys (kind, key, flow_id, until)
                values (${str('kind')}, ${str('key')}, ${str('id')}, ${nullable('until')})
                on conflict (kind, key) do update set flow_id = excluded.flow_id, until = excluded.until`,
    ),
    fcDebounce: p<FlowRow>(
      () => sql`update flows set input = ${str('input')}, run_at = ${num('runAt')}, updated_at = ${num('now')}
                where id = ${str('id')} returning *`,
    ),
  };
}

/** The queue's row: its limits, whether keyed flows were created in it, its virtual time. */
function queueRow(
  ctx: TxContext,
  queue: string,
): { limits?: QueueLimits; controlled: boolean; virtual: number } {
  const row = ctx.q.fcQueue.get({ queue });
  if (!row) return { controlled: false, virtual: 0 };
  const limits = row.limits === null ? undefined : (JSON.parse(row.limits) as QueueLimits);
  return { limits, controlled: limits !== undefined || row.keyed !== 0, virtual: row.virtual };
}

/** True when claims of the queue keep the flow-control rules (a slot freed there wakes workers). */
export function isControlled(ctx: TxContext, queue: string): boolean {
  return queueRow(ctx, queue).controlled;
}

/** Implements `configureQueue`. */
export function configureQueue(ctx: TxContext, request: ConfigureQueueRequest): void {
  const limits = hasLimits(request.limits) ? JSON.stringify(request.limits) : null;
  ctx.q.fcSetLimits.run({ queue: request.queue, limits });
  ctx.emit({ type: 'ready', queue: request.queue });
}

/** Implements `getQueueState`. */
export function getQueueState(ctx: TxContext, request: QueueStateRequest): QueueState {
  const { queue, now, key } = request;
  const { limits } = queueRow(ctx, queue);
  const running = ctx.q.fcRunning.get({ queue, now })?.n ?? 0;
  const keyRunning = key === undefined ? 0 : (ctx.q.fcOneKeyRunning.get({ queue, key, now })?.n ?? 0);
  const rate = limits?.rate;
  const at = rate ? (ctx.q.fcEffective.get({ queue, now })?.at ?? now) : now;
  const recentStarts = rate ? (ctx.q.fcStarts.get({ queue, from: at - rate.periodMs })?.n ?? 0) : 0;
  return { limits, running, keyRunning, recentStarts };
}

/** The existing flow a create folds into (de-duplication, debounce), or undefined. */
export function foldCreate(ctx: TxContext, input: NewFlow): FlowRecord | undefined {
  const { q } = ctx;
  if (input.dedup) {
    const entry = q.fcKey.get({ kind: 'dedup', key: input.dedup.key });
    const row = entry && q.flow.get({ id: entry.flow_id });
    if (entry && row) {
      const live =
        entry.until === null ? !isTerminalStatus(row.status as FlowStatus) : input.now < entry.until;
      if (live) return toFlowRecord(row);
    }
  }
  if (input.debounce) {
    const entry = q.fcKey.get({ kind: 'debounce', key: input.debounce.key });
    const row = entry && q.flow.get({ id: entry.flow_id });
    if (row && row.status === 'pending' && row.run_count === 0) {
      const { delayMs, maxWaitMs } = input.debounce;
      const cap = maxWaitMs === undefined ? Number.MAX_SAFE_INTEGER : row.created_at + maxWaitMs;
      const runAt = Math.min(Math.max(input.runAt, input.now + delayMs), cap);
      const updated = q.fcDebounce.get({ id: row.id, input: input.input, runAt, now: input.now });
      if (updated) {
        ctx.emit({ type: 'ready', queue: row.queue, at: runAt > input.now ? runAt : undefined });
        return toFlowRecord(updated);
      }
    }
  }
  return undefined;
}

/** Files a created flow's keys and fair tag; returns its `runAt` (later under a debounce). */
export function afterCreate(ctx: TxContext, input: NewFlow): number {
  const { q } = ctx;
  let runAt = input.runAt;
  if (input.dedup) {
    const until = input.dedup.forMs === undefined ? null : input.now + input.dedup.forMs;
    q.fcSetKey.run({ kind: 'dedup', key: input.dedup.key, id: input.id, until });
  }
  if (input.debounce) {
    runAt = Math.max(input.runAt, input.now + input.debounce.delayMs);
    q.fcSetKey.run({ kind: 'debounce', key: input.debounce.key, id: input.id, until: null });
  }
  let tag: number | null = null;
  const key = input.concurrencyKey;
  if (key !== undefined) {
    q.fcMarkKeyed.run({ queue: input.queue });
    const queue = queueRow(ctx, input.queue);
    const last = q.fcLastTag.get({ queue: input.queue, key })?.last_tag ?? 0;
    tag = Math.max(queue.virtual, last) + fairStep(queue.limits?.keyWeights?.[key]);
    q.fcSetLastTag.run({ queue: input.queue, key, tag });
  }
  if (key !== undefined || input.debounce) {
    q.fcSetFlowFields.run({
      id: input.id,
      key: input.concurrencyKey ?? null,
      limit: input.concurrencyLimit ?? null,
      debounce: input.debounce?.key ?? null,
      tag,
      runAt,
    });
  }
  return runAt;
}

/** The controlled queues among `queues`, with their limits. */
export function controlledQueues(
  ctx: TxContext,
  queues: readonly string[],
): Map<string, QueueLimits | undefined> {
  const found = new Map<string, QueueLimits | undefined>();
  for (const queue of queues) {
    const row = queueRow(ctx, queue);
    if (row.controlled) found.set(queue, row.limits);
  }
  return found;
}

/**
 * Claims up to `request.limit` ready flows of one controlled queue, within its limits, in fair
 * order; records their starts and advances the queue's virtual time.
 */
export function claimControlled(
  ctx: TxContext,
  queue: string,
  limits: QueueLimits | undefined,
  request: ClaimRequest,
): ClaimedFlow[] {
  const { q } = ctx;
  const { now } = request;
  let slots = request.limit;
  if (limits?.concurrency !== undefined) {
    slots = Math.min(slots, limits.concurrency - (q.fcRunning.get({ queue, now })?.n ?? 0));
  }
  const rate = limits?.rate;
  const startAt = rate ? (q.fcEffective.get({ queue, now })?.at ?? now) : now;
  if (rate) {
    const from = startAt - rate.periodMs;
    q.fcPruneStarts.run({ queue, from });
    slots = Math.min(slots, rate.limit - (q.fcStarts.get({ queue, from })?.n ?? 0));
  }
  if (slots <= 0) return [];
  const keyRunning = new Map(q.fcKeyRunning.all({ queue, now }).map((r) => [r.key, r.n]));
  const claimed: ClaimedFlow[] = [];
  let virtual = 0;
  // Candidates in pages that grow, so a claim reads about what it takes unless keys are full.
  const scan = request.limit + FAIR_SCAN;
  let page = Math.min(scan, Math.max(16, request.limit * 2));
  let offset = 0;
  while (claimed.length < slots && offset < scan) {
    let candidates: FairCandidate[] = [];
    let more = false;
    if (request.flowId !== undefined) {
      const one = q.fcCandidate.get({ id: request.flowId, now });
      if (one && one.queue === queue && request.types.includes(one.type)) candidates = [one];
    } else {
      for (const type of request.types) {
        const rows = q.fcCandidates.all({ queue, type, now, limit: page, offset });
        more ||= rows.length === page;
        candidates = candidates.concat(rows);
      }
      if (request.types.length > 1) candidates.sort(fairOrder);
    }
    let taken = 0;
    for (const candidate of candidates) {
      if (claimed.length >= slots) break;
      const key = candidate.concurrency_key;
      if (key !== null) {
        const max = candidate.concurrency_limit ?? limits?.keyConcurrency;
        const count = keyRunning.get(key) ?? 0;
        if (max !== undefined && count >= max) continue;
        keyRunning.set(key, count + 1);
      }
      const row = q.claim.get({
        id: candidate.id,
        workerId: request.workerId,
        expiresAt: now + request.leaseMs,
        now,
      });
      if (!row) continue;
      taken++;
      claimed.push({ flow: toFlowRecord(row), token: row.fencing_token });
      if (rate) q.fcAddStart.run({ queue, now: startAt });
      virtual = Math.max(virtual, candidate.fair_tag ?? 0);
    }
    if (!more) break;
    // Claimed rows left the ready set: the next page starts that many rows earlier.
    offset += page - taken;
    page = Math.min(page * 2, scan - offset);
  }
  if (virtual > 0) q.fcAdvance.run({ queue, tag: virtual });
  return claimed;
}

function fairOrder(a: FairCandidate, b: FairCandidate): number {
  return (
    b.priority - a.priority ||
    (a.fair_tag ?? 0) - (b.fair_tag ?? 0) ||
    a.run_at - b.run_at ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}
