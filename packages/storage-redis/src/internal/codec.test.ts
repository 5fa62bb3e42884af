import { describe, expect, it } from 'vitest';
import { decodeEvent, finishedEvents } from './codec.js';

describe('decodeEvent', () => {
  // What JSON.parse makes of a message, for the event types decodeEvent reads.
  const parsed = (message: string) => {
    try {
      const { type, flowId, status } = JSON.parse(message) as Record<string, unknown>;
      return typeof flowId === 'string' && typeof status === 'string' ? { type, flowId, status } : undefined;
    } catch {
      return undefined;
    }
  };

  it('reads a finished event as JSON.parse does, escaped ids and odd forms included', () => {
    const messages = [
      '{"type":"finished","flowId":"01a2504c-aad0-77b6-af34-0a8613f06db9","status":"completed"}',
      '{"type":"finished","flowId":"é:x","status":"failed"}',
      '{"type":"finished","flowId":"a\\/b","status":"cancelled"}',
      '{"type":"finished","flowId":"a\\"b\\",\\"status\\":\\"x","status":"completed"}',
      '{"type":"finished","flowId":"x","status":"completed"} ',
      '{"type":"finished","flowId":"x","status":"compl\\"eted"}',
      '{"type":"finished","flowId":"","status":"completed"}',
      '{"type":"finished","flowId":"x","status":"completed"',
    ];
    for (const message of messages) expect(decodeEvent(message), message).toEqual(parsed(message));
  });
});

describe('finishedEvents', () => {
  it('reads the finished events of several flows, in order, escaped ids included', () => {
    const message = '{"type":"finished","flows":["a","completed","b\\"c","failed","\\u00e9","cancelled"]}';
    expect(finishedEvents(message)).toEqual([
      { type: 'finished', flowId: 'a', status: 'completed' },
      { type: 'finished', flowId: 'b"c', status: 'failed' },
      { type: 'finished', flowId: 'é', status: 'cancelled' },
    ]);
  });

  it('reads no other message', () => {
    for (const message of [
      '{"type":"finished","flowId":"a","status":"completed"}',
      '{"type":"finished","flows":["a","completed"',
      '{"type":"finished","flows":{}}',
      '{"type":"ready","queue":"default"}',
    ])
      expect(finishedEvents(message), message).toBeUndefined();
  });
});
