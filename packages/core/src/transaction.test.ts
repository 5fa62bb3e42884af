import { describe, expect, it } from 'vitest';
import { type ErgonError, ErrorCode } from './errors.js';
import { isValidId, validateId } from './ids.js';
import { createTransaction, isTransaction, transactionMetadata } from './transaction.js';

describe('createTransaction', () => {
  it('makes a deeply frozen copy with a UUIDv7 id by default', () => {
    const payload = { order: { id: 7, items: ['a'] }, at: new Date(0) };
    const tx = createTransaction({ payload, metadata: { traceparent: '00-abc' } });
    expect(tx.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Object.isFrozen(tx)).toBe(true);
    expect(Object.isFrozen(tx.payload.order.items)).toBe(true);
    expect(Object.isFrozen(tx.metadata)).toBe(true);
    payload.order.id = 8;
    expect(tx.payload.order.id).toBe(7);
    expect(() => {
      (tx.payload.order as { id: number }).id = 9;
    }).toThrow(TypeError);
    expect(tx.payload.at).toEqual(new Date(0));
    expect(isTransaction(tx)).toBe(true);
  });

  it('validates the id, the metadata and the payload', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as ErgonError).code;
      }
    };
    expect(code(() => createTransaction({ id: '', payload: 1 }))).toBe(ErrorCode.INVALID_ID);
    expect(code(() => createTransaction({ id: 'has space', payload: 1 }))).toBe(ErrorCode.INVALID_ID);
    expect(code(() => createTransaction({ id: 'x'.repeat(600), payload: 1 }))).toBe(ErrorCode.INVALID_ID);
    expect(code(() => createTransaction({ payload: { f: () => 1 } }))).toBe(ErrorCode.CODEC_FUNCTION);
    expect(code(() => createTransaction({ payload: 1, metadata: { n: 1 as unknown as string } }))).toBe(
      ErrorCode.INVALID_ARGUMENT,
    );
    expect(createTransaction({ id: 'order-1:line/2', payload: null }).id).toBe('order-1:line/2');
  });

  it('metadata inherits nothing: every key is an own string, __proto__ and toString included', () => {
    const given = JSON.parse('{"__proto__":"x","toString":"y","a":"b"}');
    const tx = createTransaction({ payload: 1, metadata: given });
    expect(Object.keys(tx.metadata).sort()).toEqual(['__proto__', 'a', 'toString']);
    expect(tx.metadata.toString).toBe('y');
    const plain = createTransaction({ payload: 1, metadata: { a: 'b' } }).metadata;
    expect('toString' in plain || 'constructor' in plain || 'hasOwnProperty' in plain).toBe(false);
    expect({ ...plain }).toEqual({ a: 'b' });
    expect(JSON.stringify(plain)).toBe('{"a":"b"}');
  });

  it('takes only own metadata keys, and freezes what arrays of a payload hold', () => {
    const inherited = Object.assign(Object.create({ inherited: 'no' }), { own: 'yes' });
    expect({ ...createTransaction({ payload: 1, metadata: inherited }).metadata }).toEqual({ own: 'yes' });
    for (const decoded of [false, true]) {
      const tx = createTransaction({ payload: JSON.parse('[[{"a":[1]}],{"b":{}}]') }, { decoded });
      expect(
        [tx.payload, tx.payload[0], tx.payload[0][0], tx.payload[0][0].a, tx.payload[1].b].map(
          Object.isFrozen,
        ),
      ).toEqual([true, true, true, true, true]);
    }
  });

  it('takes a just-filled record of transactionMetadata() as it is with decoded: true, and copies it otherwise', () => {
    const fill = () => {
      const record = transactionMetadata();
      record['__proto__'] = 'x'; // an own key: the record inherits no __proto__ setter
      record.a = 'b';
      return record;
    };
    const record = fill();
    const tx = createTransaction({ id: 'm-1', payload: 1, metadata: record }, { decoded: true });
    expect(tx.metadata).toBe(record);
    expect(Object.isFrozen(record)).toBe(true);
    expect(Object.keys(tx.metadata)).toEqual(['__proto__', 'a']);
    expect(tx.metadata['__proto__']).toBe('x');
    expect('toString' in tx.metadata).toBe(false);
    // Frozen already, or without decoded: a copy, as for any metadata.
    expect(createTransaction({ payload: 1, metadata: record }, { decoded: true }).metadata).not.toBe(record);
    const other = fill();
    expect(createTransaction({ payload: 1, metadata: other }).metadata).not.toBe(other);
    expect(Object.isFrozen(other)).toBe(false);
    const bad = Object.assign(transactionMetadata(), { n: 1 as unknown as string });
    expect(() => createTransaction({ payload: 1, metadata: bad }, { decoded: true })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
  });

  it('freezes a just-decoded payload in place instead of copying it, still refusing what the codec refuses', () => {
    const payload = JSON.parse('{"order":{"id":7,"items":["a"]}}');
    const tx = createTransaction({ id: 'm-1', payload, metadata: { a: 'b' } }, { decoded: true });
    expect(tx.payload).toBe(payload);
    expect(Object.isFrozen(tx.payload.order.items)).toBe(true);
    expect(Object.isFrozen(tx)).toBe(true);
    const code = (payload: unknown) => {
      try {
        createTransaction({ payload }, { decoded: true });
      } catch (error) {
        return (error as ErgonError).code;
      }
    };
    expect(code(JSON.parse(`${'['.repeat(1500)}${']'.repeat(1500)}`))).toBe(ErrorCode.CODEC_TOO_DEEP);
    expect(code(JSON.parse('{"a":[{"__proto__":{"polluted":true}}]}'))).toBe(ErrorCode.CODEC_UNSAFE_KEY);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    // The codec's copy refuses the same.
    expect(() => createTransaction({ payload: JSON.parse('{"__proto__":1}') })).toThrow(
      expect.objectContaining({ code: ErrorCode.CODEC_UNSAFE_KEY }),
    );
    expect(() => createTransaction({ id: 'bad id', payload: 1 }, { decoded: true })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ID }),
    );
  });
});

describe('ids', () => {
  it('accepts safe ids and refuses the rest', () => {
    expect(isValidId('abc-DEF_1.2:3@4/5')).toBe(true);
    for (const bad of ['', ' ', 'a b', 'quote"', 'back\\slash', 'ünï', 5, null])
      expect(isValidId(bad)).toBe(false);
    expect(() => validateId('a\nb', 'flow id')).toThrow(/flow id/);
  });

  it('checks every id again after accepting one (the last accepted is remembered, nothing else)', () => {
    expect(validateId('flow-1')).toBe('flow-1');
    expect(validateId('flow-1')).toBe('flow-1');
    for (const bad of [undefined, null, '', 'flow-1 ', 'flow 1', 5])
      expect(() => validateId(bad, 'flow id')).toThrow(
        expect.objectContaining({ code: ErrorCode.INVALID_ID }),
      );
    expect(validateId('flow-1')).toBe('flow-1');
  });
});
