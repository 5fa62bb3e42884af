/**
 * Creates in batches (`createFlows`), and a create's claim (`NewFlow.claim`):
 * the flows without flow control in one statement (one round trip, one
 * commit), each flow asked to be claimed inserted running when nothing limits
 * its claim (its queue has no limits); the others as their single calls would,
 * in order after it.
 *
 * @module
 */
import {
  type ClaimedFlow,
  type CreateFlowResult,
  type CreateOutcome,
  claimOfNew,
  FlowNotFoundError,
  isErgonError,
  type NewFlow,
} from '@ergon/core';
import type { Context } from './context.js';
import { rows } from './db.js';
import { controlledQueues, createControlled, needsControl } from './flow-control.js';
import { claimFlows } from './leases.js';
import { type FlowRow, toFlowRecord } from './rows.js';

/** Creates `inputs` in order. `repeated`: the call runs again after its connection was lost. */
export async function createBatch(
  ctx: Context,
  inputs: readonly NewFlow[],
  repeated: boolean,
): Promise<CreateOutcome[]> {
  for (const input of inputs) ctx.listener.noteQueue(input.queue);
  const outcomes = new Array<CreateOutcome>(inputs.length);
  const plain = inputs.flatMap((input, index) => (needsControl(input) ? [] : [{ input, index }]));
  if (plain.length > 0) await createPlain(ctx, plain, outcomes, repeated);
  // With flow control: one transaction each, in order (dedup and debounce keys see the ones before).
  for (let index = 0; index < inputs.length; index++) {
    const input = inputs[index] as NewFlow;
    if (!needsControl(input)) continue;
    outcomes[index] = await settle(() => claimAfter(ctx, input, createControlled(ctx, input)));
  }
  return outcomes;
}

/** The creates without flow-control options: one statement, then the claims it could not make. */
async function createPlain(
  ctx: Context,
  plain: readonly { input: NewFlow; index: number }[],
  outcomes: CreateOutcome[],
  repeated: boolean,
): Promise<void> {
  const claiming = plain.some(({ input }) => input.claim !== undefined);
  const controlled = claiming
    ? await controlledQueues(ctx, [...new Set(plain.map((p) => p.input.queue))])
    : undefined;
  // A new flow is inserted running when asked and nothing limits its claim.
  const runs = (input: NewFlow) =>
    input.claim !== undefined && input.runAt <= input.now && !controlled?.has(input.queue);
  const first = new Map<string, NewFlow>();
  for (const { input } of plain) if (!first.has(input.id)) first.set(input.id, input);
  const fresh = [...first.values()];
  const inserted = await rows(ctx.db.pool, ctx.q.insertFlows, {
    cId: fresh.map((f) => f.id),
    cType: fresh.map((f) => f.type),
    cQueue: fresh.map((f) => f.queue),
    cPriority: fresh.map((f) => f.priority),
    cInput: fresh.map((f) => f.input),
    cParent: fresh.map((f) => f.parentId ?? null),
    cRunAt: fresh.map((f) => f.runAt),
    cTrace: fresh.map((f) => f.traceContext ?? null),
    cWorker: fresh.map((f) => (runs(f) ? (f.claim?.workerId ?? null) : null)),
    cExpiresAt: fresh.map((f) => (runs(f) ? f.now + (f.claim?.leaseMs ?? 0) : null)),
    cNow: fresh.map((f) => f.now),
  });
  const made = new Map(inserted.map((row) => [row.id, row]));
  const missing = fresh.filter((f) => !made.has(f.id)).map((f) => f.id);
  const existing = new Map(
    (missing.length > 0 ? await rows(ctx.db.pool, ctx.q.flowsById, { ids: missing }) : []).map((row) => [
      row.id,
      row,
    ]),
  );
  ctx.notifier.send(
    inserted
      .filter((row) => row.status === 'pending')
      .map((row) => ({
        type: 'ready' as const,
        queue: row.queue,
        at: (row.run_at ?? 0) > row.created_at ? (row.run_at ?? undefined) : undefined,
      })),
  );
  const seen = new Set<string>();
  for (const { input, index } of plain) {
    const row = made.get(input.id);
    const firstCall = !seen.has(input.id);
    seen.add(input.id);
    if (row && firstCall) {
      outcomes[index] = await settle(() => resultOf(ctx, input, row, runs(input)));
      continue;
    }
    const stored = row ?? existing.get(input.id);
    if (!stored) {
      outcomes[index] = { ok: false, error: new FlowNotFoundError(input.id) };
      continue;
    }
    // Repeated after a lost reply: a flow this call inserted running is its own claim.
    const own = repeated && firstCall && runs(input) && isOwnClaim(stored, input);
    const flow = toFlowRecord(stored);
    outcomes[index] = {
      ok: true,
      value: own
        ? { flow, created: true, claimed: { flow, token: stored.fencing_token } }
        : { flow, created: false },
    };
  }
}

/** What a create that inserted `row` reports, claiming it now when it was asked and is not running yet. */
async function resultOf(
  ctx: Context,
  input: NewFlow,
  row: FlowRow,
  running: boolean,
): Promise<CreateFlowResult> {
  const flow = toFlowRecord(row);
  if (running) return { flow, created: true, claimed: { flow, token: row.fencing_token } };
  return claimAfter(ctx, input, Promise.resolve({ flow, created: true }));
}

/** Claims a flow `create` made when its input asked for it and it is due (as a claim by id). */
async function claimAfter(
  ctx: Context,
  input: NewFlow,
  create: Promise<CreateFlowResult>,
): Promise<CreateFlowResult> {
  const result = await create;
  const asked = claimOfNew(input);
  if (!asked || !result.created || (result.flow.runAt ?? Number.POSITIVE_INFINITY) > input.now) return result;
  const [claimed]: (ClaimedFlow | undefined)[] = await claimFlows(ctx, asked);
  return claimed ? { flow: claimed.flow, created: true, claimed } : result;
}

/** True when `row` is the flow exactly as this create would have inserted it running. */
function isOwnClaim(row: FlowRow, input: NewFlow): boolean {
  return (
    row.status === 'running' &&
    row.fencing_token === 1 &&
    row.run_count === 1 &&
    row.lease_owner === input.claim?.workerId &&
    row.created_at === input.now &&
    row.input === input.input
  );
}

/** The outcome of one create: an Ergon error fails it alone; a driver error fails the batch. */
async function settle(run: () => Promise<CreateFlowResult>): Promise<CreateOutcome> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    if (!isErgonError(error)) throw error;
    return { ok: false, error };
  }
}
