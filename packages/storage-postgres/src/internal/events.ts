/**
 * Store events on the wire: one NOTIFY channel per schema, one JSON array per
 * event (`["r", queue, at?]`, `["f", flowId, status]`, `["c", flowId]`,
 * `["p", flowId]`). A
 * NOTIFY goes out when its transaction commits, never before.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { type FlowStatus, isTerminalStatus, type StoreEvent } from '@ergon/core';

/**
 * The NOTIFY channel of a store's schema: short (a channel is an identifier of at
 * most 63 bytes) and the same in every process.
 */
export function channelOf(schema: string): string {
  return `ergon_${createHash('sha1').update(schema).digest('hex').slice(0, 24)}`;
}

/** The NOTIFY payload of an event. */
export function encodeEvent(event: StoreEvent): string {
  switch (event.type) {
    case 'ready':
      return JSON.stringify(event.at === undefined ? ['r', event.queue] : ['r', event.queue, event.at]);
    case 'finished':
      return JSON.stringify(['f', event.flowId, event.status]);
    case 'cancel-requested':
      return JSON.stringify(['c', event.flowId]);
    case 'progress':
      return JSON.stringify(['p', event.flowId]);
  }
}

/** The event of a NOTIFY payload; undefined for one this code does not understand. */
export function decodeEvent(payload: string | undefined): StoreEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload ?? '');
  } catch {
    return undefined;
  }
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
  return undefined;
}
