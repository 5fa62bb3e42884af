import { isDeepStrictEqual } from 'node:util';
import { parse, stringify } from 'devalue';
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
    value instanceof Map
      ? [...value.keys(), ...value.values()]
      : value instanceof Set
        ? [...value]
        : Object.values(value);
  return children.some((child) => containsInvalidDate(child, seen));
}

/** Values the codec writes and reads without devalue's general walk (and near misses). */
const primitive = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '<', '"', '\\', 'a\u2028', 'x'.repeat(300), '\ud800', '-1', '[1]'),
);

describe('codec round trips', () => {
  it('writes numbers, booleans, null, strings and undefined exactly as devalue does (its shortcut for them)', () => {
    const plain = createCodec({ checksum: false });
    fc.assert(
      fc.property(fc.oneof(primitive, fc.constant(undefined)), (value) => {
        expect(plain.encode(value)).toBe(stringify(value));
        expect(Object.is(plain.decode(plain.encode(value)), value)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes the texts it keeps (undefined, null, booleans) and the others as a fresh codec does, each time', () => {
    const kept = [0, 1, 255, 256, -1, 0.5, -0, undefined, null, true, false];
    for (const checksum of [true, false]) {
      const warm = createCodec({ checksum });
      for (const round of [1, 2]) {
        for (const value of kept) {
          const text = warm.encode(value);
          expect(text, `${String(value)} round ${round}`).toBe(createCodec({ checksum }).encode(value));
          expect(Object.is(warm.decode(text), value)).toBe(true);
        }
      }
    }
    expect(defaultCodec.encode(-0)).not.toBe(defaultCodec.encode(0));
    // A transform need not give one text per value: nothing is kept.
    let n = 0;
    const counting = createCodec({
      transform: { encode: (t) => `${n++}|${t}`, decode: (t) => t.slice(t.indexOf('|') + 1) },
    });
    expect(counting.encode(true)).not.toBe(counting.encode(true));
    expect(counting.encode(undefined)).not.toBe(counting.encode(undefined));
  });

  it('writes plain objects of such values exactly as devalue does (its shortcut for them), and near misses', () => {
    const plain = createCodec({ checksum: false });
    const key = fc.oneof(
      fc.string(),
      fc.constantFrom('id', 'a b', '"', '<', '__proto__', 'constructor', '1', ''),
    );
    const item = fc.oneof(
      primitive,
      fc.constant(undefined),
      fc.constant(-0),
      fc.constant(Number.NaN),
      fc.constant([1]),
    );
    const flat = fc.oneof(
      fc.dictionary(key, fc.oneof(primitive, fc.constantFrom(1, 'x', null, true))),
      fc.dictionary(key, item, { maxKeys: 40 }),
    );
    fc.assert(
      fc.property(flat, (value) => {
        if (Object.hasOwn(value, '__proto__')) {
          expect(() => plain.encode(value)).toThrow();
          return;
        }
        const text = stringify(value);
        expect(plain.encode(value)).toBe(text);
        expect(isDeepStrictEqual(plain.decode(text), parse(text))).toBe(true);
      }),
      { numRuns: 3000 },
    );
    // Not plain: a class instance, a null-prototype object, symbol keys, a getter that throws.
    class Point {
      x = 1;
    }
    expect(() => plain.encode(new Point())).toThrow(SerializationError);
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    expect(plain.encode(bare)).toBe(stringify(bare));
    expect(() => plain.encode({ a: 1, [Symbol('s')]: 2 })).toThrow(SerializationError);
    const getter = Object.defineProperty({ a: 1 }, 'b', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    expect(codeOf(() => plain.encode(getter))).toBe(codeOf(() => plain.encode({ c: getter })));
  });

  it('reads numbers, booleans, null, strings and undefined exactly as devalue does (its shortcut for them)', () => {
    const plain = createCodec({ checksum: false });
    fc.assert(
      fc.property(fc.oneof(primitive, fc.constant(undefined)), (value) => {
        const text = stringify(value);
        expect(Object.is(plain.decode(text), parse(text))).toBe(true);
      }),
      { numRuns: 2000 },
    );
    for (const text of [
      '[[1],1]',
      '[[]]',
      '[{"a":1},1]',
      '-3',
      '-6',
      '[["Date","2020-01-01T00:00:00.000Z"]]',
    ]) {
      expect(plain.decode(text)).toEqual(parse(text));
    }
  });

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

describe('codec refusals of values that cannot be read as plain data', () => {
  it('refuses nesting deeper than the limit with CODEC_TOO_DEEP, at any depth up to a stack overflow', () => {
    for (const depth of [1001, 1400, 5000, 100_000]) {
      let value: unknown = {};
      for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value } : [value];
      expect(
        codeOf(() => codec.encode(value)),
        `depth ${depth}`,
      ).toBe(ErrorCode.CODEC_TOO_DEEP);
    }
    let ok: unknown = 'leaf';
    for (let i = 0; i < 999; i++) ok = [ok];
    expect(roundTrip(ok)).toEqual(ok);
  });

  it('refuses a throwing getter with a SerializationError naming its path, the getter error as cause', () => {
    const boom = new Error('getter boom');
    const value = {
      items: [
        {
          get price(): number {
            throw boom;
          },
        },
      ],
    };
    try {
      codec.encode(value, 'step result');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SerializationError);
      expect((error as SerializationError).code).toBe(ErrorCode.CODEC_UNSUPPORTED_TYPE);
      expect((error as SerializationError).path).toBe('$.items[0].price');
      expect((error as Error).cause).toBe(boom);
    }
  });

  it('refuses proxies whose traps throw, and revoked proxies, with SerializationError', () => {
    const throwing = (trap: keyof ProxyHandler<object>) =>
      new Proxy(
        { a: 1 },
        {
          [trap]: () => {
            throw new TypeError(`${trap} trap`);
          },
        },
      );
    const { proxy: revoked, revoke } = Proxy.revocable({ a: 1 }, {});
    revoke();
    for (const value of [
      throwing('get'),
      throwing('ownKeys'),
      throwing('getPrototypeOf'),
      throwing('getOwnPropertyDescriptor'),
      { nested: [throwing('get')] },
      revoked,
    ]) {
      let caught: unknown;
      try {
        codec.encode(value);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SerializationError);
      expect((caught as SerializationError).code).toMatch(/^CODEC_/);
    }
  });

  it('refuses a getter that throws only on the second read (inside devalue) the same way', () => {
    let reads = 0;
    const flaky = {
      get flaky(): number {
        reads++;
        if (reads > 1) throw new Error('second read');
        return 1;
      },
    };
    // Inside another object: a flat object of primitives is read once, without devalue's walk.
    expect(codeOf(() => codec.encode({ inner: flaky }))).toBe(ErrorCode.CODEC_UNSUPPORTED_TYPE);
    reads = 0;
    expect(codec.decode(codec.encode(flaky))).toEqual({ flaky: 1 });
    expect(reads).toBe(1);
  });
});

describe('codec checksums', () => {
  it('frames every encoded value with a CRC-32 of its text', () => {
    const text = codec.encode({ n: 1 });
    expect(text).toMatch(/^#c[0-9a-f]{8}:\[/);
    expect(codec.decode(text)).toEqual({ n: 1 });
  });

  it('detects a value altered at rest with STORE_CORRUPT, whichever character changed', () => {
    const text = codec.encode({ amount: 100, to: 'alice' });
    const altered = [
      text.replace('100', '900'),
      text.replace('alice', 'mallo'),
      `${text.slice(0, 3)}${text[3] === '0' ? '1' : '0'}${text.slice(4)}`,
      text.slice(0, -1),
      `${text}x`,
      `${text.slice(0, 10)};${text.slice(11)}`,
    ];
    for (const bad of altered) {
      expect(
        codeOf(() => codec.decode(bad)),
        bad,
      ).toBe(ErrorCode.STORE_CORRUPT);
    }
  });

  it('reads values written before checksums (no frame) as before', () => {
    expect(codec.decode('[{"n":1},42]')).toEqual({ n: 42 });
    expect(codec.decode('-1')).toBeUndefined();
  });

  it('checks the text after the transform, and frames only when asked', () => {
    const b64 = createCodec({
      transform: {
        encode: (s) => Buffer.from(s).toString('base64'),
        decode: (s) => Buffer.from(s, 'base64').toString(),
      },
    });
    const text = b64.encode('secret');
    expect(text).toMatch(/^#c[0-9a-f]{8}:/);
    expect(codeOf(() => b64.decode(text.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))))).toBe(
      ErrorCode.STORE_CORRUPT,
    );
    const plain = createCodec({ checksum: false });
    expect(plain.encode([1])).toBe('[[1],1]');
    expect(plain.decode(codec.encode('framed'))).toBe('framed');
  });

  it('round-trips non-ASCII text, astral characters and lone surrogates under the checksum', () => {
    for (const value of ['é€', '😀'.repeat(100), '\ud800x', 'x'.repeat(10_000) + '\udc00', 'ü'.repeat(300)]) {
      expect(roundTrip(value)).toBe(value);
    }
  });
});
