import { createTransaction, defaultCodec, ErrorCode } from '@ergon/core';
import { headers } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { deadLetterMessage, readDeadLetter } from './dead-letters.js';
import { decodeMessage, encodeTransaction, type MessageCodecOptions } from './messages.js';

const options: MessageCodecOptions = {
  format: 'json',
  codec: defaultCodec,
  maxBytes: 1024,
  requireId: false,
};
const incoming = (out: { data: Uint8Array; headers: ReturnType<typeof headers> }, sequence = 7) => ({
  data: out.data,
  headers: out.headers,
  stream: 'ORDERS',
  sequence,
  deliveries: 1,
});

describe('NATS messages', () => {
  it('carry the id in Nats-Msg-Id and the metadata in headers, and come back as the same transaction', () => {
    const tx = createTransaction({ id: 'o-1', payload: { n: 1 }, metadata: { traceparent: '00-ab-cd-01' } });
    const out = encodeTransaction(tx, options);
    expect(out.headers.get('Nats-Msg-Id')).toBe('o-1');
    const back = decodeMessage(incoming(out), options);
    expect(back.id).toBe('o-1');
    expect(back.payload).toEqual({ n: 1 });
    expect(back.metadata).toMatchObject({
      traceparent: '00-ab-cd-01',
      'nats.stream': 'ORDERS',
      'nats.sequence': '7',
    });
  });

  it('give a message without Nats-Msg-Id the id <stream>:<sequence>, or refuse it with INVALID_ID when ids are required', () => {
    const out = { data: Buffer.from('{"n":2}'), headers: headers() };
    expect(decodeMessage(incoming(out, 42), options).id).toBe('ORDERS:42');
    expect(() => decodeMessage(incoming(out), { ...options, requireId: true })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ID }),
    );
  });

  it('refuse data that is not JSON with CODEC_MALFORMED and data over the limit with CODEC_TOO_LARGE', () => {
    const bad = { data: Buffer.from('{not json'), headers: headers() };
    expect(() => decodeMessage(incoming(bad), options)).toThrow(
      expect.objectContaining({ code: ErrorCode.CODEC_MALFORMED }),
    );
    const big = createTransaction({ id: 'big', payload: 'x'.repeat(2000) });
    expect(() => encodeTransaction(big, options)).toThrow(
      expect.objectContaining({ code: ErrorCode.CODEC_TOO_LARGE }),
    );
  });

  it('keep Dates and Maps with the ergon format', () => {
    const tx = createTransaction({ id: 'e-1', payload: { at: new Date(5), tags: new Map([['a', 1]]) } });
    const back = decodeMessage<{ at: Date; tags: Map<string, number> }>(
      incoming(encodeTransaction(tx, { ...options, format: 'ergon' })),
      options,
    );
    expect(back.payload.at).toEqual(new Date(5));
    expect(back.payload.tags.get('a')).toBe(1);
  });

  it('make a dead letter that keeps data and headers and reads back with its reason and origin', () => {
    const tx = createTransaction({ id: 'o-9', payload: { n: 9 }, metadata: { 'x-tenant': 'acme' } });
    const letter = deadLetterMessage(incoming(encodeTransaction(tx, options), 12), new Error('no stock'));
    expect(letter.id).toBe('ORDERS:12');
    const read = readDeadLetter({ data: letter.data, header: letter.headers, seq: 1 });
    expect(read).toMatchObject({
      id: 'o-9',
      payload: { n: 9 },
      metadata: { 'x-tenant': 'acme' },
      reason: { name: 'Error', message: 'no stock' },
      stream: 'ORDERS',
      sequence: 12,
      deliveries: 1,
      deadLetterSequence: 1,
    });
  });
});
