import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCodec, defaultCodec, registerErrorClass } from './codec.js';
import { ErgonError, ErrorCode, InvalidArgumentError, isErgonError, SerializationError } from './errors.js';
import { NonRetryableError } from './retry.js';

const codec = defaultCodec;
const roundTrip = <T>(value: T): T => codec.decode<T>(codec.encode(value));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as ErgonError).code;
  }
  return undefined;
}

// Keys named __proto__ are refused by design (see the dedicated test below).
const encodable = fc
  .anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withSparseArray: true,
    withNullPrototype: true,
    withObjectString: true,
    key: fc.string().filter((k) => k !== '__proto__'),
  })
  // isDeepStrictEqual never finds two Invalid Dates equal (NaN !== NaN); they get a test of their own.
  .filter((value) => !containsInvalidDate(value, new Set()));

function containsInvalidDate(value: unknown, seen: Set<unknown>): boolean {
  if (value instanceof Date) return Number.isNaN(value.getTime());
  if (typeof value !== 'object' || value === null || seen.has(value)) return false;
  seen.add(value);
  const children =
    value instanceof Map ? [...value.keys(), ...value.values()] : value instanceof Set ? [...value] : Object.values(value);
  return children.some((child) => containsInvalidDate(child, seen));
}

describe('codec round trips', () => {
  it('round-trips every encodable value exactly (property)', () => {
    fc.assert(
      fc.property(encodable, (value) => {
        expect(isDeepStrictEqual(roundTrip(value), value)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips an Invalid Date as an Invalid Date', () => {
    const back = roundTrip({ when: new Date(Number.NaN) });
    expect(back.when).toBeInstanceOf(Date);
    expect(Number.isNaN(back.when.getTime())).toBe(true);
  });

  it('keeps the special values that JSON loses', () => {
    const value = {
      date: new Date('2024-02-29T12:00:00.123Z'),
      big: 2n ** 80n,
      map: new Map<unknown, unknown>([
        [1, 'one'],
        [{ k: 1 }, new Set([1, 2])],
      ]),
      set: new Set(['a', undefined]),
      undef: undefined,
      negZero: -0,
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      bytes: new Uint8Array([1, 2, 255]),
      floats: new Float64Array([1.5, -2]),
      nested: { deeper: [{ at: new Date(0) }] },
    };
    const back = roundTrip(value);
    expect(isDeepStrictEqual(back, value)).toBe(true);
    expect(back.map).toBeInstanceOf(Map);
    expect(Object.is(back.negZero, -0)).toBe(true);
    expect('undef' in back).toBe(true);
  });

  it('round-trips errors with message, name, cause and own properties', () => {
    const cause = new TypeError('inner');
    const error = Object.assign(new RangeError('outer', { cause }), { code: 'E_RANGE', retryAfter: 5 });
    const back = roundTrip(error);
    expect(back).toBeInstanceOf(RangeError);
    expect(back.message).toBe('outer');
    expect(back.stack).toBe(error.stack);
    expect((back as unknown as { code: string }).code).toBe('E_RANGE');
    expect(back.cause).toBeInstanceOf(TypeError);
    expect((back.cause as Error).message).toBe('inner');
  });

  it('revives Ergon errors and registered classes with their class and code', () => {
    class PaymentDeclined extends Error {
      override name = 'PaymentDeclined';
      constructor(
        message: string,
        readonly reason: string,
      ) {
        super(message);
      }
    }
    registerErrorClass(PaymentDeclined);
    const stop = roundTrip(new NonRetryableError('stop'));
    const declined = roundTrip(new PaymentDeclined('no', 'funds'));
    expect(stop).toBeInstanceOf(NonRetryableError);
    expect(stop).toBeInstanceOf(ErgonError);
    expect(isErgonError(stop)).toBe(true);
    expect(stop.code).toBe(ErrorCode.NON_RETRYABLE);
    expect(stop.isRetryable()).toBe(false);
    expect(declined).toBeInstanceOf(PaymentDeclined);
    expect(declined.reason).toBe('funds');
  });

  it('keeps an unknown error class name and marks unknown Ergon errors as Ergon errors', () => {
    class Unregistered extends ErgonError {
      constructor() {
        super(ErrorCode.INTERNAL, 'x');
      }
    }
    const back = roundTrip(new Unregistered());
    expect(back.name).toBe('Unregistered');
    expect(isErgonError(back)).toBe(true);
    expect(back.code).toBe(ErrorCode.INTERNAL);
  });
});

describe('codec refusals', () => {
  it('refuses functions, symbols, cycles, class instances and __proto__ keys, each with its own code', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    class Point {
      x = 1;
    }
    const protoKey = JSON.parse('{"ok":{"__proto__":{"polluted":true}}}');
    expect(codeOf(() => codec.encode({ f: () => 1 }))).toBe(ErrorCode.CODEC_FUNCTION);
    expect(codeOf(() => codec.encode([Symbol('s')]))).toBe(ErrorCode.CODEC_SYMBOL);
    expect(codeOf(() => codec.encode({ [Symbol('k')]: 1 }))).toBe(ErrorCode.CODEC_SYMBOL);
    expect(codeOf(() => codec.encode(cyclic))).toBe(ErrorCode.CODEC_CYCLE);
    expect(codeOf(() => codec.encode({ p: new Point() }))).toBe(ErrorCode.CODEC_UNSUPPORTED_TYPE);
    expect(codeOf(() => codec.encode(new WeakMap()))).toBe(ErrorCode.CODEC_UNSUPPORTED_TYPE);
    expect(codeOf(() => codec.encode(protoKey))).toBe(ErrorCode.CODEC_UNSAFE_KEY);
  });

  it('names the path of the refused part and says it is a SerializationError', () => {
    try {
      codec.encode({ items: [1, { at: () => 0 }] }, 'step result');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SerializationError);
      expect((error as SerializationError).path).toBe('$.items[1].at');
      expect((error as Error).message).toContain('step result');
    }
  });

  it('accepts repeated references (a DAG is not a cycle)', () => {
    const shared = { n: 1 };
    const back = roundTrip({ a: shared, b: shared });
    expect(back.a).toEqual({ n: 1 });
    expect(back.b).toEqual({ n: 1 });
  });

  it('refuses values over the size limit with CODEC_TOO_LARGE', () => {
    const small = createCodec({ maxBytes: 100 });
    expect(codeOf(() => small.encode('x'.repeat(200)))).toBe(ErrorCode.CODEC_TOO_LARGE);
    expect(codeOf(() => small.encode('é'.repeat(60)))).toBe(ErrorCode.CODEC_TOO_LARGE);
    expect(small.decode(small.encode('x'.repeat(50)))).toBe('x'.repeat(50));
    expect(codeOf(() => createCodec({ maxBytes: -1 }))).toBe(ErrorCode.INVALID_ARGUMENT);
  });

  it('refuses garbage on decode with CODEC_MALFORMED', () => {
    for (const text of ['', 'not json', '{"a":1}', '[{"a":99}]', '[["Error",1],{}]']) {
      expect(codeOf(() => codec.decode(text))).toBe(ErrorCode.CODEC_MALFORMED);
    }
    expect(codeOf(() => codec.decode(42 as unknown as string))).toBe(ErrorCode.CODEC_MALFORMED);
  });
});

describe('codec safety against prototype pollution', () => {
  const pollutedBefore = Object.keys(Object.prototype);

  it('leaves Object.prototype untouched for constructor.prototype keys, which round-trip as data', () => {
    const input = JSON.parse(
      '{"constructor":{"prototype":{"polluted":true}},"a":[{"constructor":{"prototype":{"x":1}}}]}',
    );
    const back = roundTrip(input);
    expect(back).toEqual(input);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual(pollutedBefore);
  });

  it('never pollutes when decoding hand-written text with __proto__ keys', () => {
    const attacks = [
      '[{"__proto__":1},{"polluted":2},true]',
      '[{"a":1},{"__proto__":2},{"polluted":3},true]',
      '[["Error",1],{"name":2,"message":2,"stack":3,"ergon":4,"props":5},"x",-1,false,{"__proto__":6},{"polluted":7},true]',
    ];
    for (const text of attacks) {
      try {
        codec.decode(text);
      } catch (error) {
        expect((error as ErgonError).code).toBe(ErrorCode.CODEC_MALFORMED);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual(pollutedBefore);
  });

  it('never pollutes for any object with arbitrary keys (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('__proto__', 'constructor', 'prototype', 'polluted', 'a'),
          fc.jsonValue(),
        ),
        (obj) => {
          try {
            roundTrip(obj);
          } catch (error) {
            expect((error as ErgonError).code).toBe(ErrorCode.CODEC_UNSAFE_KEY);
          }
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        },
      ),
    );
  });
});

describe('codec transform', () => {
  it('applies an encryption-style transform on the stored text', () => {
    const rot = (s: string) => Buffer.from(s).toString('base64');
    const unrot = (s: string) => Buffer.from(s, 'base64').toString();
    const sealed = createCodec({ transform: { encode: rot, decode: unrot } });
    const text = sealed.encode({ secret: 'card' });
    expect(text).not.toContain('card');
    expect(sealed.decode(text)).toEqual({ secret: 'card' });
  });

  it('rejects non-Ergon invalid options through InvalidArgumentError', () => {
    expect(() => createCodec({ maxBytes: 1.5 })).toThrow(InvalidArgumentError);
  });
});
