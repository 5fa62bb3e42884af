/**
 * Flow control on SQLite (core's `queues.ts`): queue limits in the `queues`
 * table, each key's last fair-queueing tag in `queue_keys`, the starts of
 * rate-limited queues in `queue_starts`, de-duplication and debounce keys in
 * `flow_keys` (schema version 6, `flow-control-schema.ts`; statements in
 * `flow-control-queries.ts`, claims of a controlled queue in
 * `flow-control-claim.ts`). Everything runs inside the store's IMMEDIATE write
 * transactions, so a claim's counts and its writes are one atomic step across
 * processes.
 *
 * Running flows are counted by unexpired lease (`flows_running`), never kept
 * as counters, so a dead worker's slots come back when its leases expire.
 *
 * @module
 */
import {
  type ConfigureQueueRequest,
  type FlowRecord,
  type FlowStatus,
  fairStep,
  hasLimits,
  isTerminalStatus,
  type NewFlow,
  type QueueLimits,
  type QueueState,
  type QueueStateRequest,
} from '@ergon/core';
import type { TxContext } from './queries.js';
import type { QueueControl } from './queue-cache.js';
import { toFlowRecord } from './rows.js';

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

/** Whether the queue is controlled, and its limits: read once per write transaction (`queue-cache.ts`). */
function queueControl(ctx: TxContext, queue: string): QueueControl {
  let control = ctx.queues.lookup(queue);
  if (control === undefined) {
    const { controlled, limits } = queueRow(ctx, queue);
    control = { controlled, limits };
    ctx.queues.remember(queue, control);
  }
  return control;
}

/** True when claims of the queue keep the flow-control rules (a slot freed there wakes workers). */
export function isControlled(ctx: TxContext, queue: string): boolean {
  return queueControl(ctx, queue).controlled;
}

/** Implements `configureQueue`. */
export function configureQueue(ctx: TxContext, request: ConfigureQueueRequest): void {
  const { queue } = request;
  const limits = hasLimits(request.limits) ? JSON.stringify(request.limits) : null;
  const was = isControlled(ctx, queue);
  ctx.q.fcSetLimits.run({ queue, limits });
  ctx.queues.forget();
  if (!was) markIfControlled(ctx, queue);
  ctx.emit({ type: 'ready', queue });
}

/**
 * After a change that may have made `queue` controlled: if it is, its unfinished flows join the
 * fair index (`fair-index.ts`), which its claims read from now on.
 */
function markIfControlled(ctx: TxContext, queue: string): void {
  if (isControlled(ctx, queue)) ctx.q.fcMarkFlows.run({ queue });
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
    const was = isControlled(ctx, input.queue);
    if (q.fcMarkKeyed.run({ queue: input.queue }) > 0) {
      ctx.queues.forget();
      // Its first keyed flow: this flow (created unmarked) and the queue's others join the fair index.
      if (!was) markIfControlled(ctx, input.queue);
    }
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
    const control = queueControl(ctx, queue);
    if (control.controlled) found.set(queue, control.limits);
  }
  return found;
}
