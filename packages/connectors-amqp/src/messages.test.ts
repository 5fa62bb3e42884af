import { createTransaction, defaultCodec, ErrorCode } from '@ergon/core';
import type { MessageProperties } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { deadLetterMessage, readDeadLetter } from './dead-letters.js';
import { DEAD_LETTER_HEADERS, decodeMessage, ERGON_CONTENT_TYPE, encodeTransaction } from './messages.js';

const OPTIONS = { format: 'json', codec: defaultCodec, maxBytes: 1024, persistent: true } as const;

function received(content: Buffer, properties: Record<string, unknown>) {
  return { content, properties: { headers: {}, ...properties } as unknown as MessageProperties };
}

describe('transactions as messages', () => {
  it('round-trips id, payload and metadata through message_id, a JSON body and headers', () => {
    const tx = createTransaction({
      id: 'order-1',
      payload: { sku: 'A', n: 2 },
      metadata: { traceparent: 'tp' },
    });
    const message = encodeTransaction(tx, OPTIONS);
    expect(message.options).toMatchObject({
      messageId: 'order-1',
      contentType: 'application/json',
      persistent: true,
    });
    expect(JSON.parse(message.content.toString())).toEqual({ sku: 'A', n: 2 });
    const back = decodeMessage(
      received(message.content, message.options as Record<string, unknown>),
      OPTIONS,
    );
    expect(back).toEqual(tx);
    expect(Object.isFrozen(back.payload)).toBe(true);
  });

  it('keeps Dates and Maps with the ergon format, and reads it by content type', () => {
    const payload = { at: new Date(0), tags: new Map([['a', 1]]) };
    const tx = createTransaction({ id: 'x', payload });
    const message = encodeTransaction(tx, { ...OPTIONS, format: 'ergon' });
    expect(message.options.contentType).toBe(ERGON_CONTENT_TYPE);
    const back = decodeMessage<typeof payload>(
      received(message.content, message.options as Record<string, unknown>),
      OPTIONS,
    );
    expect(back.payload.at).toEqual(new Date(0));
    expect(back.payload.tags.get('a')).toBe(1);
  });

  it('refuses to dispatch a body over the size limit', () => {
    const tx = createTransaction({ id: 'big', payload: 'x'.repeat(2000) });
    expect(() => encodeTransaction(tx, OPTIONS)).toThrow(
      expect.objectContaining({ code: ErrorCode.CODEC_TOO_LARGE }),
    );
  });

  it('names why a message cannot become a transaction, by code', () => {
    const decode = (content: string, properties: Record<string, unknown>) => () =>
      decodeMessage(received(Buffer.from(content), properties), OPTIONS);
    const code = (c: string) => expect.objectContaining({ code: c });
    expect(decode('{"n":1}', {})).toThrow(code(ErrorCode.INVALID_ID));
    expect(decode('{"n":1}', { messageId: 'bad id!' })).toThrow(code(ErrorCode.INVALID_ID));
    expect(decode('{not json', { messageId: 'm' })).toThrow(code(ErrorCode.CODEC_MALFORMED));
    expect(decode('{"__proto__":{"x":1}}', { messageId: 'm' })).toThrow(code(ErrorCode.CODEC_UNSAFE_KEY));
    expect(decode(`"${'x'.repeat(2000)}"`, { messageId: 'm' })).toThrow(code(ErrorCode.CODEC_TOO_LARGE));
  });

  it('takes string, number and boolean headers as metadata, and leaves out its own and x-death', () => {
    const tx = decodeMessage(
      received(Buffer.from('1'), {
        messageId: 'm',
        headers: {
          a: 'x',
          b: 2,
          c: true,
          d: { nested: 1 },
          'x-death': [{}],
          [DEAD_LETTER_HEADERS.reason]: '{}',
        },
      }),
      OPTIONS,
    );
    expect({ ...tx.metadata }).toEqual({ a: 'x', b: '2', c: 'true' });
  });
});

describe('dead letters', () => {
  it('keep the body, id and headers, and carry the reason, queue and time', () => {
    const original = received(Buffer.from('{"n":1}'), { messageId: 'm-1', headers: { tenant: 'acme' } });
    const reason = Object.assign(new Error('card declined'), { code: 'NON_RETRYABLE' });
    const letter = deadLetterMessage(original, reason, 'orders');
    expect(letter.content).toBe(original.content);
    const read = readDeadLetter(received(letter.content, letter.options as Record<string, unknown>));
    expect(read).toMatchObject({
      id: 'm-1',
      payload: { n: 1 },
      metadata: { tenant: 'acme' },
      reason: { code: 'NON_RETRYABLE', name: 'Error', message: 'card declined' },
      queue: 'orders',
    });
    expect(Date.parse(read.at ?? '')).not.toBeNaN();
  });

  it('read the broker’s own dead letters by their x-death reason', () => {
    const read = readDeadLetter(
      received(Buffer.from('{not json'), { headers: { 'x-death': [{ reason: 'expired' }] } }),
    );
    expect(read.reason.message).toContain('expired');
    expect(read).not.toHaveProperty('payload');
  });
});
