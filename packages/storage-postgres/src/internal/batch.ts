/**
 * A batch of writes (`applyWrites`): the records and finishes of many flows in
 * one statement (the function `ergon_batch`, `batch-function.ts`), one round trip and one commit instead of
 * a transaction of one statement each. The batch is cut into segments that
 * one statement can apply with the effect of applying them in order: a segment
 * never holds a record after its flow's finish, two writes at one position, or
 * two finishes of one flow (a run's last record and its finish go together:
 * the finish applies only when the record passed its check); a suspension is a segment of its own
 * (it reads signals and children, under its flow's lock). Each write the
 * statement could not make (a stale token, a pending cancel, a final record
 * already there, a child's finish that wakes its parent) then takes its single
 * call's path, which works out why under the flow's lock, so its outcome is
 * exactly the single call's. A refused write fails alone; a database error
 * fails the batch (whose writes may then be in part applied, as the contract allows).
 * The statement announces its finished flows itself when the notifier is idle
 * and it made every write (`batch-notify.ts`); otherwise they go out after it.
 * The finishes' next claims (`FinishRequest.next`) come after every write, the
 * first in the last statement when it can (`batch-next.ts`).
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  asksNext,
  type BatchOutcome,
  type BatchWrite,
  type ClaimRequest,
  type FinishRequest,
  isErgonError,
  type RecordRequest,
  type RecordResult,
  type StoreEvent,
  type SuspendResult,
} from '@ergon/core';
import type { BatchClaimRow } from './batch-claim.js';
import { NextClaims } from './batch-next.js';
import { type BatchRow, toBatchValues } from './batch-queries.js';
import type { Context } from './context.js';
import { rows } from './db.js';
import { isConflict } from './errors.js';
import { recordSlow } from './history.js';
import { claimValues } from './leases.js';
import { finishSlow, suspend } from './lifecycle.js';

/** Attempts of the batch statement when the server rolls it back for a conflict. */
const CONFLICT_ATTEMPTS = 8;

type Indexed<W> = { readonly index: number; readonly request: W };

/** Writes one statement applies: records and finishes of distinct flows. */
interface Segment {
  readonly records: Indexed<RecordRequest>[];
  readonly finishes: Indexed<FinishRequest>[];
  /** The positions recorded, by flow: one, or a set of several (keyed by the id, hashed once a string). */
  readonly positions: Map<string, number | Set<number>>;
  readonly finishing: Set<string>;
}

const emptySegment = (): Segment => ({
  records: [],
  finishes: [],
  positions: new Map(),
  finishing: new Set(),
});

/** Whether `segment` records `position` of `flowId`. */
function recorded(segment: Segment, flowId: string, position: number): boolean {
  const at = segment.positions.get(flowId);
  return at === position || (typeof at === 'object' && at.has(position));
}

/** Notes that `segment` records `position` of `flowId`. */
function noteRecorded(segment: Segment, flowId: string, position: number): void {
  const at = segment.positions.get(flowId);
  if (at === undefined) segment.positions.set(flowId, position);
  else if (typeof at === 'object') at.add(position);
  else segment.positions.set(flowId, new Set([at, position]));
}

/** The outcome of a finish the statement made (shared: an outcome is only read). */
const FINISHED: BatchOutcome = Object.freeze({ ok: true, value: undefined });

/** Applies `writes` in order. `repeated`: the batch runs again after its connection was lost. */
export async function applyBatch(
  ctx: Context,
  writes: readonly BatchWrite[],
  repeated: boolean,
): Promise<BatchOutcome[]> {
  const outcomes = new Array<BatchOutcome>(writes.length);
  const next = asksNext(writes) ? new NextClaims(ctx, writes, outcomes) : undefined;
  const steps = plan(writes);
  for (let s = 0; s < steps.length; s++) {
    const step = steps[s] as Segment | number;
    if (typeof step === 'number') {
      const { request } = writes[step] as Extract<BatchWrite, { op: 'suspend' }>;
      outcomes[step] = await settle(() => suspend(ctx, request, repeated));
    } else {
      await applySegment(ctx, step, outcomes, repeated, s === steps.length - 1 ? next : undefined);
    }
  }
  await next?.claim();
  return outcomes;
}

/**
 * The statements `writes` take, in order: segments, and the index of each suspension (a step of its
 * own). Where a segment ends depends on the writes alone, never on what an earlier one did.
 */
function plan(writes: readonly BatchWrite[]): (Segment | number)[] {
  const steps: (Segment | number)[] = [];
  let segment = emptySegment();
  const cut = () => {
    if (segment.records.length + segment.finishes.length > 0) steps.push(segment);
    segment = emptySegment();
  };
  for (let index = 0; index < writes.length; index++) {
    const write = writes[index] as BatchWrite;
    if (write.op === 'suspend') {
      cut();
      steps.push(index);
    } else if (write.op === 'record') {
      const { flowId, position } = write.request.record;
      if (segment.finishing.has(flowId) || recorded(segment, flowId, position)) cut();
      segment.records.push({ index, request: write.request });
      noteRecorded(segment, flowId, position);
    } else {
      const { flowId } = write.request;
      if (segment.finishing.has(flowId)) cut();
      segment.finishes.push({ index, request: write.request });
      segment.finishing.add(flowId);
    }
  }
  cut();
  return steps;
}

/** The `finished` events of a segment's finishes, in order. */
function finishedEvents(segment: Segment): StoreEvent[] {
  const { finishes } = segment;
  const events = new Array<StoreEvent>(finishes.length);
  for (let k = 0; k < finishes.length; k++) {
    const { request } = finishes[k] as Indexed<FinishRequest>;
    events[k] = { type: 'finished', flowId: request.flowId, status: request.status };
  }
  return events;
}

/**
 * One statement for the segment, then the single path for each write it did not make. `next`: the
 * segment is the batch's last, and a next claim may ride in its statement.
 */
async function applySegment(
  ctx: Context,
  segment: Segment,
  outcomes: BatchOutcome[],
  repeated: boolean,
  next?: NextClaims,
): Promise<void> {
  const finished = finishedEvents(segment);
  // The statement notifies its finishes itself when the notifier is idle and it makes every write.
  const inline = ctx.notifier.takeInlineMany(finished);
  const rider = next?.rider(segment.finishes.map((w) => w.index));
  let refusals: BatchRow[];
  try {
    const answer = await batchStatement(ctx, segment, inline, rider);
    refusals = answer.refusals;
    if (rider && answer.claim) next?.rode(rider, answer.claim);
  } finally {
    inline?.done();
  }
  if (refusals.length > 0) return applyRefused(ctx, segment, outcomes, refusals, finished, repeated);
  for (const { index, request } of segment.records)
    outcomes[index] = { ok: true, value: { record: request.record, existed: false, cancelRequested: false } };
  for (const { index } of segment.finishes) outcomes[index] = FINISHED;
  if (finished.length > 0 && !inline) ctx.notifier.send(finished);
}

/**
 * The outcomes of a segment whose statement refused some writes (and so notified nothing): each
 * refused one by its single call's path, in order, then the events of the finishes it made.
 */
async function applyRefused(
  ctx: Context,
  segment: Segment,
  outcomes: BatchOutcome[],
  refusals: readonly BatchRow[],
  finished: readonly StoreEvent[],
  repeated: boolean,
): Promise<void> {
  const refused = { r: new Set<number>(), f: new Set<number>() };
  for (const row of refusals) refused[row.op].add(row.n - 1);
  const events = [];
  for (let k = 0; k < segment.records.length; k++) {
    const { index, request } = segment.records[k] as Indexed<RecordRequest>;
    outcomes[index] = refused.r.has(k)
      ? await settle(() => recordSlow(ctx, request, repeated))
      : { ok: true, value: { record: request.record, existed: false, cancelRequested: false } };
  }
  for (let k = 0; k < segment.finishes.length; k++) {
    const { index, request } = segment.finishes[k] as Indexed<FinishRequest>;
    if (refused.f.has(k)) {
      outcomes[index] = await settle(() => finishSlow(ctx, request, repeated).then(() => undefined));
    } else {
      outcomes[index] = FINISHED;
      events.push(finished[k] as StoreEvent);
    }
  }
  if (events.length > 0) ctx.notifier.send(events);
}

/**
 * Runs the batch statement (notifying `inline`'s payloads when given, claiming `rider` after its
 * writes when given and it makes them all), again from the start when the server rolls it back
 * for a conflict.
 */
async function batchStatement(
  ctx: Context,
  segment: Segment,
  inline: { channel: string; payloads: string[] } | undefined,
  rider: ClaimRequest | undefined,
): Promise<{ refusals: BatchRow[]; claim?: BatchClaimRow | undefined }> {
  const values = toBatchValues(
    segment.records.map((w) => w.request),
    segment.finishes.map((w) => w.request),
  );
  for (let attempt = 1; ; attempt++) {
    try {
      if (rider) {
        const notify = { channel: inline?.channel, payloads: inline?.payloads };
        const found = await rows(ctx.db.pool, ctx.q.batchClaim, {
          ...values,
          ...notify,
          ...claimValues(rider),
        });
        const claim = found.find((row) => row.op === null);
        return { refusals: claim ? [] : (found as BatchRow[]), claim };
      }
      if (inline) {
        const args = { ...values, channel: inline.channel, payloads: inline.payloads };
        return { refusals: await rows(ctx.db.pool, ctx.q.batchNotify, args) };
      }
      return { refusals: await rows(ctx.db.pool, ctx.q.batch, values) };
    } catch (error) {
      if (!isConflict(error) || attempt >= CONFLICT_ATTEMPTS) throw error;
      await sleep(Math.random() * 2 ** Math.min(attempt, 6));
    }
  }
}

/** The outcome of one write: its value, or the Ergon error it was refused with. Other errors fail the batch. */
async function settle(write: () => Promise<RecordResult | SuspendResult | undefined>): Promise<BatchOutcome> {
  try {
    return { ok: true, value: await write() };
  } catch (error) {
    if (!isErgonError(error)) throw error;
    return { ok: false, error };
  }
}
