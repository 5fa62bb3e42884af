/**
 * The calls of a lease holder (renew, release, progress, consume a signal,
 * suspend; a finish is `finish.ts`, a batch of writes `apply.ts`, a lone
 * record `record.ts`) and the calls on one flow by id (signal, cancel), each routed to the flow's partition. After a call that
 * stops a run, its admitted slot in the home partition is freed
 * (`admission.ts`); after one that makes a flow claimable, the views are told
 * (`tracker.ts`).
 *
 * @module
 */
import type {
  CancelRequest,
  ConsumeSignalRequest,
  FlowRecord,
  ProgressRequest,
  ProgressResult,
  RecordResult,
  ReleaseRequest,
  RenewRequest,
  RenewResult,
  SendSignalRequest,
  SuspendRequest,
  SuspendResult,
} from '@ergon/core';
import { encodeSignalOperation, flowOf, optArg, recordResult } from './codec.js';
import type { StoreCore } from './core.js';
import type { HeldFlow } from './held.js';
import { heldHint } from './hints.js';
import { suspendArgs } from './writes.js';

/** The partition of a flow: where this store holds it, else where it lives (a lookup when unsure). */
export async function partitionOf(core: StoreCore, id: string, token?: number): Promise<number> {
  const held = token === undefined ? undefined : core.held.get(id, token);
  return held ? held.partition : core.router.locate(id);
}

/**
 * Runs `call` in the flow's partition. When unsure where that is, tries the partition its id
 * hashes to first (where nearly every flow lives) and looks further only on FLOW_NOT_FOUND.
 */
export async function onFlow<T>(
  core: StoreCore,
  id: string,
  token: number | undefined,
  call: (p: number) => Promise<T>,
): Promise<T> {
  const held = token === undefined ? undefined : core.held.get(id, token);
  if (held) return call(held.partition);
  if (core.router.certain(id)) return call(core.router.known(id));
  const natural = core.layout.natural(id);
  try {
    return await call(natural);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.includes('ERGON_FLOW_NOT_FOUND')) throw error;
    const p = await core.router.locate(id);
    if (p === natural) throw error;
    return call(p);
  }
}

/** A run stopped (finished, suspended, released) or was lost: forget it, free its admitted slot. */
export async function stopped(
  core: StoreCore,
  id: string,
  token: number,
  lost = false,
): Promise<HeldFlow | undefined> {
  const held = core.held.take(id, token);
  if (held?.admitted && !lost) await core.admission.release([held.admitted]);
  return held;
}

/** True for a script's refusal of a stale token. */
export function isLeaseLost(error: unknown): boolean {
  return error instanceof Error && error.message.includes('ERGON_LEASE_LOST');
}

export async function renewLease(core: StoreCore, lease: RenewRequest): Promise<RenewResult> {
  const until = lease.now + lease.leaseMs;
  const admitted = core.held.get(lease.flowId, lease.token)?.admitted;
  // Counted in the home partition before the lease grows, so never for less time than it runs.
  if (admitted) await core.admission.extend(admitted, until);
  const reply = await onFlow(core, lease.flowId, lease.token, (p) => {
    const keys = core.layout.keys(p);
    return core.runner.write(
      'renew-lease',
      keys,
      [keys.flow(lease.flowId)],
      [lease.flowId, String(lease.token), String(until)],
    );
  }).catch(async (error: unknown) => {
    if (isLeaseLost(error)) await stopped(core, lease.flowId, lease.token, true);
    throw error;
  });
  return { cancelRequested: reply === 1 };
}

export async function releaseLease(core: StoreCore, lease: ReleaseRequest): Promise<void> {
  const p = await partitionOf(core, lease.flowId, lease.token);
  const keys = core.layout.keys(p);
  const released = await core.runner.write(
    'release-lease',
    keys,
    [keys.flow(lease.flowId)],
    [
      lease.flowId,
      String(lease.token),
      String(lease.now),
      optArg(lease.error),
      optArg(lease.retryAt === undefined ? undefined : String(lease.retryAt)),
    ],
  );
  const held = await stopped(core, lease.flowId, lease.token, released !== 1);
  if (released === 1 && core.partitioned) {
    core.tracker.hint(p, heldHint(lease.flowId, held, lease.retryAt ?? lease.now));
  }
}

export async function setProgress(core: StoreCore, request: ProgressRequest): Promise<ProgressResult> {
  const id = request.flowId;
  const reply = await onFlow(core, id, request.token, (p) => {
    const keys = core.layout.keys(p);
    return core.runner.write(
      'set-progress',
      keys,
      [keys.flow(id)],
      [id, String(request.token), request.progress, String(request.now)],
    );
  });
  return { cancelRequested: reply === 1 };
}

export async function consumeSignal(
  core: StoreCore,
  request: ConsumeSignalRequest,
): Promise<RecordResult | undefined> {
  const id = request.flowId;
  const reply = (await onFlow(core, id, request.token, (p) => {
    const keys = core.layout.keys(p);
    return core.runner.write(
      'consume-signal',
      keys,
      [keys.flow(id), keys.history(id), keys.signals(id), keys.signalIndex(id)],
      [
        id,
        String(request.token),
        String(request.record.position),
        request.name,
        encodeSignalOperation(request.record),
      ],
    );
  })) as [number, string, number];
  return reply[0] === 2 ? undefined : recordResult(reply);
}

export async function suspend(core: StoreCore, lease: SuspendRequest): Promise<SuspendResult> {
  const id = lease.flowId;
  let partition = 0;
  const outcome = (await onFlow(core, id, lease.token, (p) => {
    partition = p;
    const keys = core.layout.keys(p);
    return core.runner.write(
      'suspend',
      keys,
      [keys.flow(id), keys.signalIndex(id)],
      suspendArgs(core.rid(), lease),
    );
  }).catch(async (error: unknown) => {
    if (isLeaseLost(error)) await stopped(core, id, lease.token, true);
    throw error;
  })) as SuspendResult['outcome'];
  if (outcome !== 'ready') await afterSuspend(core, partition, lease, outcome);
  return { outcome } as SuspendResult;
}

/** After a suspension or a cancel instead: the run stopped; a timer or a woken parent is news for the views. */
export async function afterSuspend(
  core: StoreCore,
  p: number,
  lease: SuspendRequest,
  outcome: SuspendResult['outcome'],
  held?: HeldFlow,
): Promise<void> {
  held ??= await stopped(core, lease.flowId, lease.token);
  if (!core.partitioned) return;
  if (outcome === 'cancelled') {
    core.tracker.hint(p, {});
    return;
  }
  const timers = lease.waits.flatMap((w) => (w.kind === 'timer' ? [w.at] : []));
  core.tracker.hint(p, heldHint(lease.flowId, held, timers.length > 0 ? Math.min(...timers) : undefined));
}

export async function sendSignal(core: StoreCore, signal: SendSignalRequest): Promise<void> {
  const id = signal.flowId;
  let partition = 0;
  const reply = await onFlow(core, id, undefined, (p) => {
    partition = p;
    const keys = core.layout.keys(p);
    return core.runner.write(
      'send-signal',
      keys,
      [keys.flow(id), keys.signals(id), keys.signalIndex(id)],
      [core.rid(), id, signal.name, signal.payload, String(signal.now)],
    );
  });
  if (reply === 'w' && core.partitioned) core.tracker.hint(partition, {});
}

export async function requestCancel(core: StoreCore, request: CancelRequest): Promise<FlowRecord> {
  const id = request.flowId;
  let partition = 0;
  const reply = await onFlow(core, id, undefined, (p) => {
    partition = p;
    const keys = core.layout.keys(p);
    return core.runner.write(
      'request-cancel',
      keys,
      [keys.flow(id)],
      [id, request.error, String(request.now)],
    );
  });
  // A pending or suspended flow cancelled at once may have woken its parent.
  if (core.partitioned) core.tracker.hint(partition, {});
  return flowOf(reply);
}
