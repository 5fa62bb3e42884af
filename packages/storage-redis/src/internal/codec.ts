/**
 * Conversions between the contract's records and what the scripts store:
 * flow hashes, history record JSON, signal JSON, and script arguments.
 *
 * @module
 */
import {
  type ClaimedFlow,
  ErgonError,
  ErrorCode,
  type FlowRecord,
  type FlowStatus,
  type OperationRecord,
  type RecordResult,
  type SignalRecord,
  type StoreEvent,
  type Wait,
  type WorkerRecord,
} from '@ergon/core';
import { corruptData } from './errors.js';

/** An optional string argument: `""` when absent, `"=" + value` when present (see includes/args.lua). */
export function optArg(value: string | undefined): string {
  return value === undefined ? '' : `=${value}`;
}

/** A flat field/value list (HGETALL in a script) as an object. */
export function pairs(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

const optNum = (value: string | undefined) => (value === undefined ? undefined : Number(value));

/**
 * A flow hash as a record, or undefined for an empty hash (no such flow). Waits that do not
 * parse become none, with `damage` saying so, so one damaged hash never fails a list.
 */
export function toFlowRecord(hash: Record<string, string>): FlowRecord | undefined {
  if (hash.id === undefined) return undefined;
  const waits = parseWaits(hash.waits);
  return Object.freeze({
    id: hash.id,
    type: hash.type ?? '',
    queue: hash.queue ?? '',
    status: (hash.status ?? 'pending') as FlowStatus,
    priority: Number(hash.priority ?? 0),
    input: hash.input ?? '',
    result: hash.result,
    error: hash.error,
    parentId: hash.parentId,
    runAt: optNum(hash.runAt),
    fencingToken: Number(hash.token ?? 0),
    leaseOwner: hash.owner,
    leaseExpiresAt: optNum(hash.lease),
    waits: waits ?? EMPTY_WAITS,
    cancelRequested: hash.cancel === '1',
    runCount: Number(hash.runs ?? 0),
    abandonedRuns: Number(hash.abandons ?? 0),
    lastError: hash.lastError,
    damage:
      waits === undefined
        ? `flow ${JSON.stringify(hash.id)} has unreadable waits: something other than Ergon wrote its hash`
        : undefined,
    progress: hash.progress,
    progressAt: optNum(hash.progressAt),
    traceContext: hash.trace,
    concurrencyKey: hash.ckey,
    concurrencyLimit: optNum(hash.clim),
    debounceKey: hash.dbk,
    fairTag: optNum(hash.tag),
    createdAt: Number(hash.createdAt ?? 0),
    updatedAt: Number(hash.updatedAt ?? 0),
    finishedAt: optNum(hash.finishedAt),
  });
}

const EMPTY_WAITS: readonly Wait[] = Object.freeze([]);

/** The stored waits, or undefined when they are not a JSON list. */
function parseWaits(text: string | undefined): readonly Wait[] | undefined {
  if (text === undefined || text === '[]') return EMPTY_WAITS;
  try {
    const waits: unknown = JSON.parse(text);
    return Array.isArray(waits) ? Object.freeze(waits as Wait[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A history record as stored: JSON with `status` first, which the scripts
 * read to tell a replaceable `waiting` record from a final one.
 */
export function encodeOperation(record: OperationRecord): string {
  // Most records come with `status` first already (the executor builds them so).
  const json = JSON.stringify(record);
  if (json.startsWith('{"status":')) return json;
  const { status, ...rest } = record;
  return JSON.stringify({ status, ...rest });
}

/** The record a consumed signal completes, without `result` (the script appends the payload). */
export function encodeSignalOperation(record: Omit<OperationRecord, 'result' | 'status'>): string {
  const { result: _result, status: _status, ...rest } = record as OperationRecord;
  return JSON.stringify({ status: 'completed', ...rest });
}

/** A stored history record. @throws ErgonError `STORE_CORRUPT` when it is not one. */
export function decodeOperation(json: string, flowId?: string): OperationRecord {
  let record: Partial<OperationRecord> | undefined;
  try {
    record = JSON.parse(json) as Partial<OperationRecord>;
  } catch (error) {
    throw corruptData(`a history record of flow ${JSON.stringify(flowId)} is not JSON`, flowId, error);
  }
  if (typeof record !== 'object' || record === null || !Number.isInteger(record.position)) {
    throw corruptData(`a history record of flow ${JSON.stringify(flowId)} is not a record`, flowId);
  }
  return Object.freeze(record as OperationRecord);
}

/** A stored signal. @throws ErgonError `STORE_CORRUPT` when it is not one. */
export function decodeSignal(flowId: string, json: string): SignalRecord {
  let signal: Partial<SignalRecord> | undefined;
  try {
    signal = JSON.parse(json) as Partial<SignalRecord>;
  } catch (error) {
    throw corruptData(`a buffered signal of flow ${JSON.stringify(flowId)} is not JSON`, flowId, error);
  }
  if (typeof signal !== 'object' || signal === null || typeof signal.payload !== 'string') {
    throw corruptData(`a buffered signal of flow ${JSON.stringify(flowId)} is not a signal`, flowId);
  }
  const { seq, name, payload, sentAt } = signal as SignalRecord;
  return Object.freeze({ flowId, seq, name, payload, sentAt });
}

/**
 * A pub/sub message as an event, or undefined when it is not one. `claim` reads the flow of a
 * `handed` event for its worker, when this instance parked it (else the event has no claim).
 */
export function decodeEvent(
  message: string,
  claim?: (workerId: string, flat: unknown) => ClaimedFlow | undefined,
): StoreEvent | undefined {
  const finished = finishedEvent(message);
  if (finished) return finished;
  try {
    const event = JSON.parse(message) as Partial<Record<string, unknown>>;
    if (event.type === 'ready' && typeof event.queue === 'string') {
      return typeof event.at === 'number'
        ? { type: 'ready', queue: event.queue, at: event.at }
        : { type: 'ready', queue: event.queue };
    }
    if (event.type === 'finished' && typeof event.flowId === 'string' && typeof event.status === 'string') {
      return { type: 'finished', flowId: event.flowId, status: event.status as FlowStatus };
    }
    if (event.type === 'cancel-requested' && typeof event.flowId === 'string') {
      return { type: 'cancel-requested', flowId: event.flowId };
    }
    if (event.type === 'progress' && typeof event.flowId === 'string') {
      return { type: 'progress', flowId: event.flowId };
    }
    if (event.type === 'handed' && typeof event.flowId === 'string' && typeof event.workerId === 'string') {
      const claimed = claim?.(event.workerId, event.flow);
      return claimed
        ? { type: 'handed', flowId: event.flowId, workerId: event.workerId, claimed }
        : { type: 'handed', flowId: event.flowId, workerId: event.workerId };
    }
  } catch {
    // Not ours: ignore.
  }
  return undefined;
}

/** How includes/events.lua starts the `finished` event of several flows (publishFinishedAll). */
const FINISHED_MANY_START = '{"type":"finished","flows":[';

/**
 * The `finished` events of a message announcing several flows at once,
 * `{"type":"finished","flows":[id, status, ...]}`, or undefined when `message` is not one.
 */
export function finishedEvents(message: string): StoreEvent[] | undefined {
  if (!message.startsWith(FINISHED_MANY_START)) return undefined;
  let flows: unknown;
  try {
    flows = (JSON.parse(message) as { flows?: unknown }).flows;
  } catch {
    return undefined;
  }
  if (!Array.isArray(flows)) return undefined;
  const events: StoreEvent[] = [];
  for (let i = 0; i + 1 < flows.length; i += 2) {
    const flowId: unknown = flows[i];
    const status: unknown = flows[i + 1];
    if (typeof flowId === 'string' && typeof status === 'string')
      events.push({ type: 'finished', flowId, status: status as FlowStatus });
  }
  return events;
}

/** How includes/events.lua writes a `finished` event: this, the flow id as JSON, the status. */
const FINISHED_START = '{"type":"finished","flowId":"';
const FINISHED_STATUS = '","status":"';

/**
 * A `finished` event read without `JSON.parse` (every process hears one per flow), or undefined
 * when `message` is not one as the scripts write it with an id that needed no escape (a
 * backslash anywhere: then `JSON.parse` reads it).
 */
function finishedEvent(message: string): StoreEvent | undefined {
  if (!message.startsWith(FINISHED_START) || !message.endsWith('"}') || message.includes('\\'))
    return undefined;
  const at = message.indexOf(FINISHED_STATUS, FINISHED_START.length);
  if (at < 0) return undefined;
  const status = message.slice(at + FINISHED_STATUS.length, -2);
  if (status.includes('"')) return undefined;
  return { type: 'finished', flowId: message.slice(FINISHED_START.length, at), status: status as FlowStatus };
}

/** A flow hash returned by a script (never empty). */
export function flowOf(flat: unknown): FlowRecord {
  const flow = toFlowRecord(pairs(flat));
  if (!flow) throw new Error('script returned an empty flow');
  return flow;
}

/**
 * The `[existed, record, cancelRequested]` reply of record-operation and consume-signal; `sent`
 * is the record written, which the scripts do not send back ("") when it is the one stored.
 */
export function recordResult(reply: [number, string, number], sent?: OperationRecord): RecordResult {
  const record = reply[1] === '' && sent !== undefined ? sent : decodeOperation(reply[1]);
  return { record, existed: reply[0] === 1, cancelRequested: reply[2] === 1 };
}

/** A worker record as stored in the registry hash. @throws ErgonError `STORE_CORRUPT` for anything else. */
export function decodeWorker(id: string, json: string): WorkerRecord {
  try {
    const record = JSON.parse(json) as WorkerRecord;
    if (record && typeof record === 'object' && record.id === id && typeof record.lastSeenAt === 'number')
      return record;
  } catch {
    // fall through
  }
  throw new ErgonError(
    ErrorCode.STORE_CORRUPT,
    `worker record ${JSON.stringify(id)} in the registry is unreadable`,
    {
      details: { workerId: id },
    },
  );
}
