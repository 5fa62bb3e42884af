import { createTransaction, defaultCodec, ErrorCode } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { deadLetterMessage, readDeadLetter } from './dead-letters.js';
import { decodeMessage, deliveriesOf, encodeTransaction, type MessageCodecOptions } from './messages.js';

const options: MessageCodecOptions = { format: 'json', codec: defaultCodec, maxBytes: 1024 };
const incoming = (
  out: { payload: Buffer; userProperties: Record<string, string | string[]> },
  dup = false,
) => ({
  topic: 'orders',
  payload: out.payload,
  userProperties: out.userProperties,
  dup,
});

describe('MQTT messages', () => {
  it('carry the id and the metadata in user properties, and come back as the same transaction', () => {
    const tx = createTransaction({ id: 'o-1', payload: { n: 1 }, metadata: { traceparent: '00-ab-cd-01' } });
    const out = encodeTransaction(tx, options);
    expect(out.userProperties['ergon-id']).toBe('o-1');
    const back = decodeMessage(incoming(out), options);
    expect(back.id).toBe('o-1');
    expect(back.payload).toEqual({ n: 1 });
    expect(back.metadata).toEqual({
      traceparent: '00-ab-cd-01',
      'mqtt.topic': 'orders',
      'mqtt.deliveries': '1',
    });
  });

  it('refuse a message without ergon-id with INVALID_ID (packet ids are reused)', () => {
    expect(() =>
      decodeMessage(incoming({ payload: Buffer.from('{}'), userProperties: {} }), options),
    ).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_ID }));
  });

  it('refuse a payload that is not JSON with CODEC_MALFORMED and one over the limit with CODEC_TOO_LARGE', () => {
    const bad = { payload: Buffer.from('{not json'), userProperties: { 'ergon-id': 'b-1' } };
    expect(() => decodeMessage(incoming(bad), options)).toThrow(
      expect.objectContaining({ code: ErrorCode.CODEC_MALFORMED }),
    );
    const big = createTransaction({ id: 'big', payload: 'x'.repeat(2000) });
    expect(() => encodeTransaction(big, options)).toThrow(
      expect.objectContaining({ code: ErrorCode.CODEC_TOO_LARGE }),
    );
  });

  it('count deliveries from the requeue counter and the DUP flag', () => {
    const out = { payload: Buffer.from('1'), userProperties: { 'ergon-id': 'c-1', 'ergon-deliveries': '2' } };
    expect(deliveriesOf(incoming(out))).toBe(3);
    expect(deliveriesOf(incoming(out, true))).toBe(4);
  });

  it('make a dead letter that keeps payload and properties and reads back with its reason', () => {
    const tx = createTransaction({ id: 'o-9', payload: { n: 9 }, metadata: { 'x-tenant': 'acme' } });
    const letter = deadLetterMessage(incoming(encodeTransaction(tx, options)), new Error('no stock'), 1);
    expect(readDeadLetter(letter)).toMatchObject({
      id: 'o-9',
      payload: { n: 9 },
      metadata: { 'x-tenant': 'acme' },
      reason: { name: 'Error', message: 'no stock' },
      topic: 'orders',
      deliveries: 1,
    });
  });
});
