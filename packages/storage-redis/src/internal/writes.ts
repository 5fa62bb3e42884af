/**
 * The arguments of the write scripts (record-operation, suspend, finish-flow)
 * and of their batch (apply-writes), built in one place so a single call and
 * the same write in a batch always say the same thing; and the batch's reply
 * read back into one outcome per write.
 *
 * @module
 */
import type {
  BatchOutcome,
  BatchWrite,
  FinishRequest,
  RecordRequest,
  SuspendRequest,
  SuspendResult,
} from '@ergon/core';
import { leaseContext } from './args.js';
import { encodeOperation, optArg, recordResult } from './codec.js';
import { toStoreError } from './errors.js';

/** record-operation's ARGV after the key base. */
export function recordArgs(request: RecordRequest): string[] {
  const { record } = request;
  return [request.flowId, String(request.token), String(record.position), encodeOperation(record)];
}

/** finish-flow's ARGV after the key base; `rid` recognises a resent copy. */
export function finishArgs(rid: string, request: FinishRequest): string[] {
  return [
    rid,
    request.flowId,
    String(request.token),
    request.status,
    optArg(request.result),
    optArg(request.error),
    String(request.now),
  ];
}

/** suspend's ARGV after the key base; `rid` recognises a resent copy. */
export function suspendArgs(rid: string, request: SuspendRequest): string[] {
  const { now, waits } = request;
  const timers = waits.flatMap((w) => (w.kind === 'timer' ? [w.at] : []));
  const names = [...new Set(waits.flatMap((w) => (w.kind === 'signal' ? [w.name] : [])))];
  const children = [...new Set(waits.flatMap((w) => (w.kind === 'child' ? [w.flowId] : [])))];
  return [
    rid,
    request.flowId,
    String(request.token),
    String(now),
    JSON.stringify(waits),
    optArg(timers.length > 0 ? String(Math.min(...timers)) : undefined),
    timers.some((at) => at <= now) ? '1' : '0',
    String(names.length),
    ...names,
    ...children,
  ];
}

/**
 * apply-writes' ARGV after the key base: per write its kind and its fields (a suspension's
 * counted). A record followed by the finish of the same flow under the same token (a step's end,
 * then the flow's) is one "R" entry: the flow id and token once, and one entry for the script to
 * read instead of two (~4 arguments fewer per one-step flow). `plain` says which flows this store
 * holds plain (`held.ts`): their records and finishes go as "q", "P" and "F", which read and
 * delete less, and a plain pair that completes the flow with a result as "C", without status and
 * error (scripts/apply-writes-1.lua).
 */
export function batchArgs(
  writes: readonly BatchWrite[],
  rid: () => string,
  plain: (flowId: string, token: number) => boolean = () => false,
): string[] {
  const args = [String(writes.length)];
  for (let i = 0; i < writes.length; i++) {
    const write = writes[i] as BatchWrite;
    if (write.op === 'record') {
      const next = writes[i + 1];
      const { request } = write;
      const isPlain = plain(request.flowId, request.token);
      if (
        next?.op === 'finish' &&
        next.request.flowId === request.flowId &&
        next.request.token === request.token
      ) {
        const done = next.request;
        const kind =
          isPlain && done.status === 'completed' && done.result !== undefined && done.error === undefined
            ? 'C'
            : isPlain
              ? 'P'
              : 'R';
        args.push(kind, request.flowId, String(request.token), String(request.record.position));
        args.push(encodeOperation(request.record), rid());
        // "C": the usual pair, the result as it is and no status or error to send.
        if (kind === 'C') args.push(done.result as string, String(done.now));
        else args.push(done.status, optArg(done.result), optArg(done.error), String(done.now));
        i++;
      } else args.push(isPlain ? 'q' : 'r', ...recordArgs(request));
    } else if (write.op === 'finish')
      args.push(
        plain(write.request.flowId, write.request.token) ? 'F' : 'f',
        ...finishArgs(rid(), write.request),
      );
    else {
      const fields = suspendArgs(rid(), write.request);
      args.push('s', String(fields.length), ...fields);
    }
  }
  return args;
}

/**
 * One outcome per write from apply-writes' reply; errors mapped as a single call's would be. A
 * number for a reply is the count of writes, every outcome the common one.
 */
export function batchOutcomes(writes: readonly BatchWrite[], reply: unknown): BatchOutcome[] {
  const allCommon = reply === writes.length;
  const rows = Array.isArray(reply) ? (reply as unknown[]) : [];
  return writes.map((write, i): BatchOutcome => {
    const row = allCommon ? 1 : rows[i];
    const context = leaseContext(ACTIONS[write.op], write.request);
    try {
      // 1: the common outcome, sent without a row (scripts/apply-writes-1.lua).
      if (row === 1 && write.op !== 'suspend')
        return write.op === 'record'
          ? { ok: true, value: recordResult(COMMON_RECORD, write.request.record) }
          : { ok: true, value: undefined };
      if (!Array.isArray(row)) throw new Error(`apply-writes answered no outcome for write ${i + 1}`);
      if (row[0] !== 1) throw toStoreError(replyError(String(row[1])), context);
      if (write.op === 'record')
        return {
          ok: true,
          value: recordResult(row.slice(1) as [number, string, number], write.request.record),
        };
      if (write.op === 'finish') return { ok: true, value: undefined };
      return { ok: true, value: { outcome: row[1] as SuspendResult['outcome'] } as SuspendResult };
    } catch (error) {
      return { ok: false, error: toStoreError(error, context) };
    }
  });
}

/** A record's common outcome: new (the one sent is stored), no cancel request. */
const COMMON_RECORD: [number, string, number] = [0, '', 0];

const ACTIONS = { record: 'record operation', suspend: 'suspend', finish: 'finish flow' } as const;

/** A script error as ioredis reports one, so it maps as a single call's does. */
function replyError(message: string): Error {
  const error = new Error(message);
  error.name = 'ReplyError';
  return error;
}
