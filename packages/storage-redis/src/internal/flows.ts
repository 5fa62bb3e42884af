/**
 * Creating, importing and reading flows, in the partition each lives in: the
 * one its id hashes to, its parent's for a child, the home partition for a
 * flow with flow-control keys (`partitions.ts`).
 *
 * @module
 */
import {
  type CreateFlowResult,
  claimOfNew,
  ErgonError,
  ErrorCode,
  type FlowRecord,
  type ImportFlowRequest,
  type ImportFlowResult,
  type NewFlow,
  type OperationRecord,
  type SignalRecord,
} from '@ergon/core';
import { flowControlArgs } from './args.js';
import { claimedFlow } from './claimed.js';
import { claimNamed } from './claims.js';
import { decodeOperation, decodeSignal, flowOf, optArg, toFlowRecord } from './codec.js';
import type { StoreCore } from './core.js';
import { flowHint } from './hints.js';
import { importArgs } from './import.js';
import { HOME } from './partitions.js';

/** The partition a new flow goes to (before its location is recorded, when it is not its id's). */
async function placement(core: StoreCore, input: NewFlow): Promise<number> {
  const controlled =
    input.concurrencyKey !== undefined || input.dedup !== undefined || input.debounce !== undefined;
  const parent = input.parentId === undefined ? undefined : await core.router.locate(input.parentId);
  if (controlled) {
    if (parent !== undefined && parent !== HOME) {
      throw new ErgonError(
        ErrorCode.INVALID_FLOW_CONTROL,
        `child flow ${JSON.stringify(input.id)} has a concurrency key, dedup or debounce, but on a Redis ` +
          'store with more than one partition such flows live in the home partition and a child lives in ' +
          "its parent's: create it as a flow of its own (without parentId), or use one partition",
        { details: { flowId: input.id, parentId: input.parentId } },
      );
    }
    return HOME;
  }
  return parent ?? core.layout.natural(input.id);
}

/**
 * The new flow `input` as create-flow filed it when it sends none back (a flow due now, filed in
 * its ready set, without flow control or debounce: every value of its record is the caller's).
 */
function sentFlow(input: NewFlow): FlowRecord {
  const hash: Record<string, string> = {
    status: 'pending',
    token: '0',
    cancel: '0',
    queue: input.queue,
    type: input.type,
    updatedAt: String(input.now),
    runs: '0',
    waits: '[]',
    runAt: String(input.runAt),
    id: input.id,
    input: input.input,
    createdAt: String(input.now),
  };
  if (input.priority !== 0) hash.priority = String(input.priority);
  if (input.parentId !== undefined) hash.parentId = input.parentId;
  if (input.traceContext !== undefined) hash.trace = input.traceContext;
  return toFlowRecord(hash) as FlowRecord;
}

/**
 * Implements the contract's `createFlow`, claiming the new flow in the same script when asked
 * (`NewFlow.claim`); one whose queue's limits another partition keeps is claimed right after, by
 * id, under admission (`claimNamed`).
 */
export async function createFlow(core: StoreCore, input: NewFlow): Promise<CreateFlowResult> {
  const id = input.id;
  const p = core.partitioned ? await core.router.place(id, await placement(core, input)) : HOME;
  const keys = core.layout.keys(p);
  const { claim } = input;
  // A create that asks for no claim runs the script without includes/claim (create-flow-claim-1.lua).
  const reply = (await core.runner.write(
    claim === undefined ? 'create-flow' : 'create-flow-claim',
    keys,
    [keys.flow(id)],
    [
      core.rid(),
      id,
      input.type,
      input.queue,
      input.input,
      String(input.priority),
      String(input.runAt),
      optArg(input.parentId),
      optArg(input.traceContext),
      String(input.now),
      ...flowControlArgs(input),
      optArg(claim?.workerId),
      claim === undefined ? '' : String(input.now + claim.leaseMs),
      p === HOME ? 'h' : '',
    ],
  )) as [number, unknown, number | string];
  const created = reply[0] === 1;
  if (created && reply[2] === 1) {
    const claimed = claimedFlow(core, p, reply[1]);
    return { flow: claimed.flow, created, claimed };
  }
  // None (a Lua false: nil in the reply) when the flow is the one sent.
  const flow = reply[1] === null ? sentFlow(input) : flowOf(reply[1]);
  if (core.partitioned) {
    // A dedup or debounce hit returns another flow: nothing was created under this id.
    if (flow.id !== id && p !== core.layout.natural(id)) await core.router.unplace(id).catch(() => {});
    core.router.remember(flow.id, p);
    const hint = created || flow.id !== id ? flowHint(flow) : undefined;
    if (hint) core.tracker.hint(p, hint);
  }
  const asked = created && reply[2] === 'admit' ? claimOfNew(input) : undefined;
  const [claimed] = asked ? await claimNamed(core, { ...asked, flowId: id }) : [];
  return claimed ? { flow: claimed.flow, created, claimed } : { flow, created };
}

/** Implements the contract's `importFlow`: in its parent's partition when it has one. */
export async function importFlow(core: StoreCore, request: ImportFlowRequest): Promise<ImportFlowResult> {
  const id = request.flow.id;
  let p = HOME;
  if (core.partitioned) {
    const { parentId, concurrencyKey, debounceKey } = request.flow;
    // Where its create would have put it: flow-control flows home, a child with its parent.
    const target =
      concurrencyKey !== undefined || debounceKey !== undefined
        ? HOME
        : parentId === undefined
          ? core.layout.natural(id)
          : await core.router.locate(parentId);
    p = await core.router.place(id, target);
  }
  const keys = core.layout.keys(p);
  const reply = (await core.runner.write(
    'import-flow',
    keys,
    [keys.flow(id), keys.history(id), keys.signals(id), keys.signalIndex(id)],
    [core.rid(), id, ...importArgs(request)],
  )) as [number, unknown];
  const flow = flowOf(reply[1]);
  if (core.partitioned) {
    core.router.remember(id, p);
    const hint = reply[0] === 1 ? flowHint(flow) : undefined;
    if (hint) core.tracker.hint(p, hint);
  }
  return { flow, created: reply[0] === 1 };
}

/** Implements the contract's `getFlow`: one round trip for a flow in the partition its id hashes to. */
export async function getFlow(core: StoreCore, id: string): Promise<FlowRecord | undefined> {
  if (core.router.certain(id)) {
    return toFlowRecord(await core.client.hgetall(core.layout.keys(core.router.known(id)).flow(id)));
  }
  const natural = core.layout.natural(id);
  const keys = core.layout.keys(natural);
  const pipeline = core.client.pipeline();
  pipeline.hgetall(keys.flow(id));
  pipeline.get(keys.location(id));
  const [[hashError, hash] = [], [locationError, location] = []] = (await pipeline.exec()) ?? [];
  if (hashError) throw hashError;
  if (locationError) throw locationError;
  const here = toFlowRecord((hash ?? {}) as Record<string, string>);
  if (here || location === null || location === undefined) return here;
  const p = await core.router.locate(id);
  return toFlowRecord(await core.client.hgetall(core.layout.keys(p).flow(id)));
}

/** Implements the contract's `getHistory`. */
export async function getHistory(core: StoreCore, id: string): Promise<OperationRecord[]> {
  const p = await core.router.locate(id);
  const hash = await core.client.hgetall(core.layout.keys(p).history(id));
  return Object.values(hash)
    .map((json) => decodeOperation(json, id))
    .sort((a, b) => a.position - b.position);
}

/** Implements the contract's `getSignals`. */
export async function getSignals(core: StoreCore, id: string): Promise<SignalRecord[]> {
  const p = await core.router.locate(id);
  const hash = await core.client.hgetall(core.layout.keys(p).signals(id));
  return Object.values(hash)
    .map((json) => decodeSignal(id, json))
    .sort((a, b) => a.seq - b.seq);
}
