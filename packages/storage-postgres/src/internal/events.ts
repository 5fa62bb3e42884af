/**
 * Store events on the wire: one NOTIFY channel per schema; each event a JSON
 * array (`["r", queue, at?]`, `["f", flowId, status]`, `["c", flowId]`,
 * `["p", flowId]`, `["h", flowId, workerId, row?]`: a hand-off, sent by the create's own
 * statement with the flow's row when it fits), and a payload a JSON array of events, as many as fit in a
 * NOTIFY payload: a batch of 50 finished flows is one notification for each
 * listening connection to read and each process to parse, not 50. Payloads
 * of a single event (what earlier versions sent) are read too. A NOTIFY goes
 * out when its transaction commits, never before.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { type FlowStatus, isTerminalStatus, type StoreEvent } from '@ergon/core';
import { type FlowRow, toFlowRecord } from './rows.js';

/**
 * The NOTIFY channel of a store's schema: short (a channel is an identifier of at
 * most 63 bytes) and the same in every process.
 */
export function channelOf(schema: string): string {
  return `ergon_${createHash('sha1').update(schema).digest('hex').slice(0, 24)}`;
}

/**
 * The wire form of an event (see {@link packEvents}). @throws for a kind this store never sends
 * (core may define more than a store implements: `handed` belongs to `capabilities.handOff`).
 */
export function encodeEvent(event: StoreEvent): string {
  switch (event.type) {
    case 'ready':
      return JSON.stringify(event.at === undefined ? ['r', event.queue] : ['r', event.queue, event.at]);
    case 'finished':
      // A terminal status is a plain word: only the id needs quoting (a batch encodes one a flow).
      return `["f",${JSON.stringify(event.flowId)},${isTerminalStatus(event.status) ? `"${event.status}"` : JSON.stringify(event.status)}]`;
    case 'cancel-requested':
      return JSON.stringify(['c', event.flowId]);
    case 'progress':
      return JSON.stringify(['p', event.flowId]);
    default:
      throw new Error(`postgres: no wire form for store event '${(event as { type: string }).type}'`);
  }
}

/** How {@link encodeEvent} begins a `finished` event. */
const FINISHED_PREFIX = '["f",';

/** Bytes of events one payload holds: PostgreSQL takes payloads shorter than 8000 bytes. */
const PAYLOAD_BYTES = 7900;

/**
 * The NOTIFY payloads of encoded events: each a JSON array of events, at most
 * {@link PAYLOAD_BYTES} bytes. Repeats of one event (the same queue's `ready`) go once; a
 * `finished` event is not looked for among the others (a flow finishes once), which spares
 * hashing each one's text.
 */
export function packEvents(encoded: readonly string[]): string[] {
  const payloads: string[] = [];
  const seen = new Set<string>();
  let parts: string[] = [];
  let bytes = 2;
  for (const event of encoded) {
    if (!event.startsWith(FINISHED_PREFIX)) {
      if (seen.has(event)) continue;
      seen.add(event);
    }
    const size = Buffer.byteLength(event) + 1;
    if (parts.length > 0 && bytes + size > PAYLOAD_BYTES) {
      payloads.push(`[${parts.join(',')}]`);
      parts = [];
      bytes = 2;
    }
    parts.push(event);
    bytes += size;
  }
  if (parts.length > 0) payloads.push(`[${parts.join(',')}]`);
  return payloads;
}

/** The events of a NOTIFY payload (one event, or an array of them); those this code does not understand are left out. */
export function decodePayload(payload: string | undefined): StoreEvent[] {
  let value: unknown;
  try {
    value = JSON.parse(payload ?? '');
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  if (!Array.isArray(value[0])) {
    const event = decodeEvent(value);
    return event ? [event] : [];
  }
  const events: StoreEvent[] = [];
  for (const item of value) {
    const event = decodeEvent(item);
    if (event) events.push(event);
  }
  return events;
}

/** The event of one decoded event array; undefined for one this code does not understand. */
function decodeEvent(value: unknown): StoreEvent | undefined {
  if (!Array.isArray(value) || typeof value[1] !== 'string') return undefined;
  const [kind, subject, extra] = value as [unknown, string, unknown];
  if (kind === 'r') {
    return typeof extra === 'number'
      ? { type: 'ready', queue: subject, at: extra }
      : { type: 'ready', queue: subject };
  }
  if (kind === 'f' && typeof extra === 'string' && isTerminalStatus(extra as FlowStatus)) {
    return { type: 'finished', flowId: subject, status: extra as FlowStatus };
  }
  if (kind === 'c') return { type: 'cancel-requested', flowId: subject };
  if (kind === 'p') return { type: 'progress', flowId: subject };
  if (kind === 'h' && typeof extra === 'string') return handed(subject, extra, value[3]);
  return undefined;
}

/** A `handed` event, with the claim when the payload holds the flow's row (see `listener.ts` for who gets it). */
function handed(flowId: string, workerId: string, row: unknown): StoreEvent {
  const flow = row as FlowRow | null | undefined;
  if (flow?.id !== flowId || typeof flow.fencing_token !== 'number')
    return { type: 'handed', flowId, workerId };
  try {
    return {
      type: 'handed',
      flowId,
      workerId,
      claimed: { flow: toFlowRecord(flow), token: flow.fencing_token },
    };
  } catch {
    return { type: 'handed', flowId, workerId };
  }
}
