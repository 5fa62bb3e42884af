/**
 * `importFlow` on Redis: the arguments of the import-flow script, which writes
 * the flow hash, its history and its signals in one step (see
 * `scripts/import-flow-4.lua`). The hash fields are those `toFlowRecord`
 * (codec.ts) reads.
 *
 * @module
 */
import type { FlowRecord, ImportFlowRequest, Wait } from '@ergon/core';
import { encodeOperation } from './codec.js';

/** Only the waits' own fields, so the stored JSON is the store's. */
function ownWaits(waits: readonly Wait[]): Wait[] {
  return waits.map((w): Wait => {
    if (w.kind === 'timer') return { kind: 'timer', at: w.at, position: w.position };
    if (w.kind === 'signal') return { kind: 'signal', name: w.name, position: w.position };
    return { kind: 'child', flowId: w.flowId, position: w.position };
  });
}

/** The flow hash of `flow`: the fields `toFlowRecord` reads, absent ones left out. */
export function flowHash(flow: FlowRecord): Record<string, string> {
  const hash: Record<string, string> = {
    id: flow.id,
    type: flow.type,
    queue: flow.queue,
    status: flow.status,
    priority: String(flow.priority),
    input: flow.input,
    token: String(flow.fencingToken),
    waits: JSON.stringify(ownWaits(flow.waits)),
    cancel: flow.cancelRequested ? '1' : '0',
    runs: String(flow.runCount),
    abandons: String(flow.abandonedRuns ?? 0),
    createdAt: String(flow.createdAt),
    updatedAt: String(flow.updatedAt),
  };
  const optional: Record<string, string | number | undefined> = {
    result: flow.result,
    error: flow.error,
    parentId: flow.parentId,
    runAt: flow.runAt,
    owner: flow.leaseOwner,
    lease: flow.leaseExpiresAt,
    lastError: flow.lastError,
    progress: flow.progress,
    progressAt: flow.progressAt,
    trace: flow.traceContext,
    finishedAt: flow.finishedAt,
    // Flow control: the names codec.ts reads back.
    ckey: flow.concurrencyKey,
    clim: flow.concurrencyLimit,
    dbk: flow.debounceKey,
  };
  for (const [field, value] of Object.entries(optional)) if (value !== undefined) hash[field] = String(value);
  return hash;
}

/** ARGV[4..] of import-flow (after the request id and the flow id): hash, history, signals, now. */
export function importArgs(request: ImportFlowRequest): string[] {
  return [
    JSON.stringify(flowHash(request.flow)),
    JSON.stringify(request.history.map((r) => [String(r.position), encodeOperation(r)])),
    JSON.stringify(request.signals.map((s) => [s.name, s.payload, String(s.sentAt)])),
    String(request.now),
  ];
}
