/**
 * Flow control on PostgreSQL (core's `queues.ts`): queue limits in `queues`,
 * each key's last fair-queueing tag in `queue_keys`, starts of rate-limited
 * queues in `queue_starts`, de-duplication and debounce keys in `flow_keys`
 * (migration 0003, `flow-control-schema.ts`; statements in `flow-control-queries.ts`).
 *
 * A claim of a controlled queue is one transaction that first locks the
 * queue's row, so claims of that queue take turns across every process; its
 * counts (running flows by unexpired lease, starts in the window) are read
 * after the lock, under READ COMMITTED, so each sees the claims before it.
 * A create with a dedup or debounce key locks that key's row the same way.
 * Queues without limits or keys keep the one-statement claim, which skips the
 * controlled queues and names them (`queries.ts`); those are then claimed here.
 *
 * @module
 */
import {
  type ClaimedFlow,
  type ClaimRequest,
  type ConfigureQueueRequest,
  type CreateFlowResult,
  FAIR_SCAN,
  type FlowStatus,
  fairStep,
  hasLimits,
  isTerminalStatus,
  type NewFlow,
  type QueueLimits,
  type QueueState,
  type QueueStateRequest,
  takeKeySlot,
} from '@ergon/core';
import type { Context } from './context.js';
import { asyncCommitted, type Queryable, rows, type Tx } from './db.js';
import { newFlowRow, toFlowRecord } from './rows.js';

/** Implements `configureQueue`. */
export async function configureQueue(
  { db, q, notifier }: Context,
  request: ConfigureQueueRequest,
): Promise<void> {
  const limits = hasLimits(request.limits) ? JSON.stringify(request.limits) : undefined;
  await rows(db.pool, q.fcSetLimits, { queue: request.queue, limits });
  notifier.send([{ type: 'ready', queue: request.queue }]);
}

/** Implements `getQueueState`. */
export async function getQueueState({ db, q }: Context, request: QueueStateRequest): Promise<QueueState> {
  const { queue, now, key } = request;
  const [row] = await rows(db.pool, q.fcQueue, { queue });
  const limits = row?.limits ?? undefined;
  const [running] = await rows(db.pool, q.fcRunning, { queue, now });
  const [keyed] = key === undefined ? [] : await rows(db.pool, q.fcOneKeyRunning, { queue, key, now });
  const rate = limits?.rate;
  const [at] = rate ? await rows(db.pool, q.fcEffective, { queue, now }) : [];
  const from = (at?.at ?? now) - (rate?.periodMs ?? 0);
  const [starts] = rate ? await rows(db.pool, q.fcStarts, { queue, from }) : [];
  return { limits, running: running?.n ?? 0, keyRunning: keyed?.n ?? 0, recentStarts: starts?.n ?? 0 };
}

/** True when a create needs the flow-control path (keys, dedup, debounce). */
export function needsControl(input: NewFlow): boolean {
  return input.concurrencyKey !== undefined || input.dedup !== undefined || input.debounce !== undefined;
}

/**
 * Creates a flow with flow-control options: folds it into the flow that holds its dedup or
 * debounce key (the key's row locked), or creates it with its fields and tag. Its transaction
 * commits without waiting for the WAL flush, so the key's row is not held through one (creates
 * of one key took turns at a flush each, ~500 a second); the call answers once `fcFlushed`, a
 * synchronous commit after it, has made it durable. A worker may hear of the flow before that
 * flush; its claim's own commit flushes the create first.
 */
export async function createControlled(ctx: Context, input: NewFlow): Promise<CreateFlowResult> {
  const onlyKeyed = input.dedup === undefined && input.debounce === undefined;
  const result =
    onlyKeyed && input.concurrencyKey !== undefined
      ? await createKeyed(ctx, input, input.concurrencyKey)
      : await ctx.db.transaction((tx) => createIn(ctx, tx, input), { asyncCommit: true });
  await rows(ctx.db.pool, ctx.q.fcFlushed, { id: result.flow.id });
  return result;
}

/** `createControlled` in the transaction `tx`. */
async function createIn(ctx: Context, tx: Tx, input: NewFlow): Promise<CreateFlowResult> {
  const { q } = ctx;
  const [existing] = await rows(tx, q.fcFlow, { id: input.id });
  if (existing) return { flow: toFlowRecord(existing), created: false };
  const keyed = input.dedup
    ? { kind: 'dedup', key: input.dedup.key }
    : input.debounce
      ? { kind: 'debounce', key: input.debounce.key }
      : undefined;
  const until = input.dedup?.forMs === undefined ? undefined : input.now + input.dedup.forMs;
  if (keyed) {
    const [held] = await rows(tx, q.fcClaimKey, { ...keyed, id: input.id, until });
    if (held && !held.mine) {
      const folded = await fold(tx, ctx, input, held);
      if (folded) return { flow: folded, created: false };
      await rows(tx, q.fcSetKey, { ...keyed, id: input.id, until });
    }
  }
  const [inserted] = await rows(tx, q.insertFlow, input);
  if (!inserted) return createdFirst(tx, ctx, input.id);
  let tag: number | undefined;
  if (input.concurrencyKey !== undefined) {
    const place = await keyPlace(tx, ctx, input.queue, input.concurrencyKey);
    const [next] = await rows(tx, q.fcNextTag, { queue: input.queue, key: input.concurrencyKey, ...place });
    tag = next?.last_tag;
  }
  const runAt = input.debounce ? Math.max(input.runAt, input.now + input.debounce.delayMs) : input.runAt;
  const [row] = await rows(tx, q.fcSetFlowFields, {
    id: input.id,
    key: input.concurrencyKey,
    limit: input.concurrencyLimit,
    debounce: input.debounce?.key,
    tag,
    runAt,
  });
  tx.emit({ type: 'ready', queue: input.queue, at: runAt > input.now ? runAt : undefined });
  return { flow: toFlowRecord(row ?? newFlowRow(input)), created: true };
}

/**
 * A create whose only flow control is a concurrency key: the key's tag and the insert are one
 * statement (`fcInsertKeyed`), committed on its own (`asyncCommitted`), so the key's row is
 * locked only while it runs. The flow and its queue are read before it (the queue's virtual
 * time unlocked, as in a transaction under READ COMMITTED).
 */
async function createKeyed(ctx: Context, input: NewFlow, key: string): Promise<CreateFlowResult> {
  const { db, q } = ctx;
  const [existing] = await rows(db.pool, q.fcFlow, { id: input.id });
  if (existing) return { flow: toFlowRecord(existing), created: false };
  const place = await keyPlace(db.pool, ctx, input.queue, key);
  const values = { ...input, key, limit: input.concurrencyLimit, ...place };
  const [inserted] = await asyncCommitted(db.pool, q.fcInsertKeyed, values);
  // (Its key's tag took one step more for a flow that is not this one: fairness only.)
  if (!inserted) return createdFirst(db.pool, ctx, input.id);
  ctx.notifier.send([
    { type: 'ready', queue: input.queue, at: input.runAt > input.now ? input.runAt : undefined },
  ]);
  return { flow: toFlowRecord(inserted), created: true };
}

/**
 * What a key's next fair tag is made from: its queue's virtual time and the key's step. The queue
 * is marked keyed on the first keyed create; read first, since marking an already keyed queue
 * would lock its row against its claims.
 */
async function keyPlace(
  on: Queryable,
  { q }: Context,
  queue: string,
  key: string,
): Promise<{ virtual: number; step: number }> {
  const [known] = await rows(on, q.fcQueue, { queue });
  const [row] = known?.keyed ? [known] : await rows(on, q.fcMarkKeyed, { queue });
  return { virtual: row?.virtual ?? 0, step: fairStep(row?.limits?.keyWeights?.[key]) };
}

/** The outcome of a create whose insert met a concurrent create of the same id that came first. */
async function createdFirst(on: Queryable, { q }: Context, id: string): Promise<CreateFlowResult> {
  const [other] = await rows(on, q.fcFlow, { id });
  if (other) return { flow: toFlowRecord(other), created: false };
  throw new Error(`flow ${id} could be neither created nor read`);
}

/** The flow holding the key, if a create folds into it now (updated for a debounce). */
async function fold(
  tx: Tx,
  { q }: Context,
  input: NewFlow,
  held: { flow_id: string; until: number | null },
): Promise<ReturnType<typeof toFlowRecord> | undefined> {
  const [row] = await rows(tx, q.fcFlow, { id: held.flow_id });
  if (!row) return undefined;
  if (input.dedup) {
    const live = held.until === null ? !isTerminalStatus(row.status as FlowStatus) : input.now < held.until;
    return live ? toFlowRecord(row) : undefined;
  }
  if (!input.debounce || row.status !== 'pending' || row.run_count !== 0) return undefined;
  const { delayMs, maxWaitMs } = input.debounce;
  const cap = maxWaitMs === undefined ? Number.MAX_SAFE_INTEGER : row.created_at + maxWaitMs;
  const runAt = Math.min(Math.max(input.runAt, input.now + delayMs), cap);
  const [updated] = await rows(tx, q.fcDebounce, { id: row.id, input: input.input, runAt, now: input.now });
  tx.emit({ type: 'ready', queue: row.queue, at: runAt > input.now ? runAt : undefined });
  return updated ? toFlowRecord(updated) : undefined;
}

/** The controlled queues among `queues`, with their limits. */
export async function controlledQueues(
  { db, q }: Context,
  queues: readonly string[],
): Promise<Map<string, QueueLimits | undefined>> {
  const found = await rows(db.pool, q.fcQueues, { queues });
  return new Map(found.map((row) => [row.queue, row.limits ?? undefined]));
}

/**
 * Claims up to `request.limit` ready flows of one controlled queue within its limits, in fair
 * order, in one transaction that holds the queue's row lock.
 */
export async function claimControlled(
  ctx: Context,
  queue: string,
  request: ClaimRequest,
): Promise<ClaimedFlow[]> {
  const { q } = ctx;
  const { now } = request;
  return ctx.db.transaction(async (tx) => {
    const [row] = await rows(tx, q.fcLockQueue, { queue });
    const limits = row?.limits ?? undefined;
    let slots = request.limit;
    if (limits?.concurrency !== undefined) {
      const [running] = await rows(tx, q.fcRunning, { queue, now });
      slots = Math.min(slots, limits.concurrency - (running?.n ?? 0));
    }
    const rate = limits?.rate;
    let startAt = now;
    if (rate) {
      startAt = (await rows(tx, q.fcEffective, { queue, now }))[0]?.at ?? now;
      const from = startAt - rate.periodMs;
      await rows(tx, q.fcPruneStarts, { queue, from });
      const [starts] = await rows(tx, q.fcStarts, { queue, from });
      slots = Math.min(slots, rate.limit - (starts?.n ?? 0));
    }
    if (slots <= 0) return [];
    const keyRunning = new Map((await rows(tx, q.fcKeyRunning, { queue, now })).map((r) => [r.key, r.n]));
    const ids: string[] = [];
    let virtual = 0;
    // Candidates in pages that grow (locked as read), so a claim locks about what it takes
    // unless keys are full.
    const scan = request.limit + FAIR_SCAN;
    let page = Math.min(scan, Math.max(16, request.limit * 2));
    let offset = 0;
    while (ids.length < slots && offset < scan) {
      const candidates = await rows(tx, q.fcCandidates, {
        queue,
        types: request.types,
        now,
        id: request.flowId,
        limit: page,
        offset,
      });
      for (const candidate of candidates) {
        if (ids.length >= slots) break;
        const { concurrency_key: key, concurrency_limit: limit } = candidate;
        if (!takeKeySlot(keyRunning, key, limit, limits?.keyConcurrency)) continue;
        ids.push(candidate.id);
        virtual = Math.max(virtual, candidate.fair_tag ?? 0);
      }
      if (candidates.length < page) break;
      offset += page;
      page = Math.min(page * 2, scan - offset);
    }
    if (ids.length === 0) return [];
    const claimed = await rows(tx, q.fcClaim, {
      ids,
      workerId: request.workerId,
      expiresAt: now + request.leaseMs,
      now,
    });
    if (rate) await rows(tx, q.fcAddStarts, { queue, now: startAt, count: claimed.length });
    if (virtual > 0) await rows(tx, q.fcAdvance, { queue, tag: virtual });
    const order = new Map(ids.map((id, i) => [id, i]));
    claimed.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    return claimed.map((r) => ({ flow: toFlowRecord(r), token: r.fencing_token }));
  });
}
