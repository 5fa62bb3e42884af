// Options are validated in the constructor and frozen; object formats
// decode and encode as documented. No server needed.
import { describe, expect, it } from 'vitest';
import { createS3Connector, decodeObject, encodePayload } from '../src/index.js';

describe('options', () => {
  it('are resolved with defaults, state prefixes beside the prefix, and frozen', () => {
    const c = createS3Connector({ bucket: 'shop', prefix: 'orders/incoming/' });
    expect(c.options).toMatchObject({
      prefix: 'orders/incoming/',
      donePrefix: 'orders/incoming.done/',
      deadLetterPrefix: 'orders/incoming.dead-letter/',
      leasePrefix: 'orders/incoming.leases/',
      format: 'json',
      ack: 'move',
      leaseMs: 30_000,
      maxInFlight: 256,
    });
    expect(c.name).toBe('s3:shop/orders/incoming/');
    expect(Object.isFrozen(c.options)).toBe(true);
    expect(Object.isFrozen(c.service.options)).toBe(true);
    expect(c.service.options.claims).toBe('auto');
  });

  it('refuse a prefix without a slash, a state prefix under the prefix, and bad names, with INVALID_ARGUMENT', () => {
    const bad = [
      { bucket: 'shop', prefix: 'orders' },
      { bucket: 'shop', prefix: 'orders/', donePrefix: 'orders/done/' },
      { bucket: 'shop', prefix: 'orders/', leasePrefix: 'orders.done/', donePrefix: 'orders.done/' },
      { bucket: 'Shop!', prefix: 'orders/' },
      { bucket: 'shop', prefix: 'orders/', format: 'xml' },
      { bucket: 'shop', prefix: 'orders/', claims: 'maybe' },
      { bucket: 'shop', prefix: 'orders/', endpoint: 'ftp://x' },
      { bucket: 'shop', prefix: 'orders/', maxInFlight: 0 },
    ];
    for (const options of bad) {
      expect(() => createS3Connector(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
    expect(() => createS3Connector({ bucket: 'shop', prefix: 'o/', lease: 'later' })).toThrow(
      expect.objectContaining({ code: 'INVALID_DURATION' }),
    );
  });
});

describe('object formats', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('read one JSON value, JSON lines as numbered entries (a bad line on its own), and raw bytes', () => {
    expect(decodeObject(bytes('{"a":1}'), 'json', 'k')).toEqual([{ line: undefined, payload: { a: 1 } }]);
    const lines = decodeObject(bytes('{"a":1}\n\n{oops\r\n{"a":3}\n'), 'json-lines', 'k');
    expect(lines.map((e) => [e.line, e.payload])).toEqual([
      [1, { a: 1 }],
      [3, undefined],
      [4, { a: 3 }],
    ]);
    expect(lines[1]?.error).toMatchObject({ code: 'CODEC_MALFORMED' });
    expect(decodeObject(bytes('\u00ff'), 'bytes', 'k')[0]?.payload).toEqual(bytes('\u00ff'));
  });

  it('refuse text that is not UTF-8 or not JSON with CODEC_MALFORMED', () => {
    expect(decodeObject(new Uint8Array([0xff, 0xfe]), 'json', 'k')[0]?.error).toMatchObject({
      code: 'CODEC_MALFORMED',
    });
    expect(decodeObject(bytes('{not json'), 'json', 'k')[0]?.error).toMatchObject({
      code: 'CODEC_MALFORMED',
    });
  });

  it('write JSON, a JSON line, or bytes, and refuse what cannot be written with a typed code', () => {
    expect(encodePayload({ a: 1 }, 'json', { what: 'p', maxBytes: 100 })).toEqual({
      body: '{"a":1}',
      contentType: 'application/json',
    });
    expect(encodePayload({ a: 1 }, 'json-lines', { what: 'p', maxBytes: 100 }).body).toBe('{"a":1}\n');
    expect(() => encodePayload(10n, 'json', { what: 'p', maxBytes: 100 })).toThrow(
      expect.objectContaining({ code: 'CODEC_UNSUPPORTED_TYPE' }),
    );
    expect(() => encodePayload('x'.repeat(200), 'json', { what: 'p', maxBytes: 100 })).toThrow(
      expect.objectContaining({ code: 'CODEC_TOO_LARGE' }),
    );
    expect(() => encodePayload({ a: 1 }, 'bytes', { what: 'p', maxBytes: 100 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
