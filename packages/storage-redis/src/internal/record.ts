/**
 * A lone history record (`recordOperation`): one record-operation script in
 * the flow's partition. It is the call a flow that runs its steps one by one
 * makes per step, so it goes without the async layers of the other lease
 * calls: one reaction on the script's reply makes the result or the error.
 * (A batch's records go through apply-writes, `writes.ts`.)
 *
 * @module
 */
import type { OperationRecord, RecordRequest, RecordResult } from '@ergon/core';
import { leaseContext } from './args.js';
import { decodeOperation, encodeOperation } from './codec.js';
import type { StoreCore } from './core.js';
import { corruptData, toStoreError } from './errors.js';
import { onFlow } from './leases.js';

/**
 * Implements the contract's `recordOperation`. Errors come out as the store's other calls
 * map them (`toStoreError`, after the runner has seen them).
 */
export function recordOperation(core: StoreCore, request: RecordRequest): Promise<RecordResult> {
  let reply: Promise<unknown>;
  try {
    const id = request.flowId;
    const held = core.held.get(id, request.token);
    if (held) reply = send(core, held.partition, request);
    else if (core.router.certain(id)) reply = send(core, core.router.known(id), request);
    else reply = onFlow(core, id, request.token, (p) => send(core, p, request));
  } catch (error) {
    reply = Promise.reject(error);
  }
  const { record, flowId } = request;
  return reply.then(
    (value) => resultOf(value, record, flowId),
    (error: unknown) => {
      core.runner.noteError(error);
      throw toStoreError(error, leaseContext('record operation', request));
    },
  );
}

/** The script in partition `p` (scripts/record-operation-2.lua). */
function send(core: StoreCore, p: number, request: RecordRequest): Promise<unknown> {
  const keys = core.layout.keys(p);
  const { flowId, record } = request;
  return core.runner.write(
    'record-operation',
    keys,
    [keys.flow(flowId), keys.history(flowId)],
    [String(request.token), String(record.position), encodeOperation(record)],
  );
}

/** The script's reply: the cancel flag when `sent` was stored, else `[1, stored JSON, cancel]`. */
function resultOf(reply: unknown, sent: OperationRecord, flowId: string): RecordResult {
  if (typeof reply === 'number') return { record: sent, existed: false, cancelRequested: reply === 1 };
  if (!Array.isArray(reply)) throw corruptData(`record-operation answered ${String(reply)}`, flowId);
  return {
    record: decodeOperation(String(reply[1]), flowId),
    existed: true,
    cancelRequested: reply[2] === 1,
  };
}
