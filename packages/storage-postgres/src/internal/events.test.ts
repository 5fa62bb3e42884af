import type { StoreEvent } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { decodePayload, encodeEvent, packEvents } from './events.js';

const finished = (i: number): StoreEvent => ({ type: 'finished', flowId: `flow-${i}`, status: 'completed' });

describe('NOTIFY payloads', () => {
  it('packs many events into one payload and reads them back in order', () => {
    const events: StoreEvent[] = [
      finished(1),
      { type: 'ready', queue: 'default' },
      { type: 'ready', queue: 'later', at: 1234 },
      { type: 'cancel-requested', flowId: 'flow-2' },
      { type: 'progress', flowId: 'flow-3' },
    ];
    const payloads = packEvents(events.map(encodeEvent));
    expect(payloads).toHaveLength(1);
    expect(payloads.flatMap(decodePayload)).toEqual(events);
  });

  it('keeps every payload under the 8000 bytes PostgreSQL accepts, multi-byte ids included', () => {
    const events = Array.from(
      { length: 2000 },
      (_, i): StoreEvent => ({
        type: 'finished',
        flowId: `flöw-€-${i}-${'x'.repeat(i % 50)}`,
        status: 'failed',
      }),
    );
    const payloads = packEvents(events.map(encodeEvent));
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    expect(payloads.flatMap(decodePayload)).toEqual(events);
  });

  it('sends a repeated event once', () => {
    const ready = encodeEvent({ type: 'ready', queue: 'default' });
    const payloads = packEvents([ready, encodeEvent(finished(1)), ready, ready]);
    expect(payloads.flatMap(decodePayload)).toEqual([{ type: 'ready', queue: 'default' }, finished(1)]);
  });

  it('reads the one-event payloads of earlier versions, and skips what it does not understand', () => {
    expect(decodePayload('["f","flow-1","completed"]')).toEqual([finished(1)]);
    expect(decodePayload('[["x","?"],["f","flow-1","completed"],["f","flow-2","running"]]')).toEqual([
      finished(1),
    ]);
    expect(decodePayload('not json')).toEqual([]);
    expect(decodePayload(undefined)).toEqual([]);
  });
});
