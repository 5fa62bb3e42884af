// JSON-safe values and terminal-safe text (unit level).
import { describe, expect, it } from 'vitest';
import { duration, oneLine, preview, toPlain } from './format.js';

describe('toPlain', () => {
  it('makes codec values JSON-safe', () => {
    const error = Object.assign(new Error('nope', { cause: new Error('root') }), { code: 'X' });
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    expect(
      toPlain({
        big: 10n,
        at: new Date(0),
        map: new Map([['k', 1]]),
        objMap: new Map([[1, 'one']]),
        set: new Set([1, 2]),
        bytes: new Uint8Array([1, 2]),
        error,
        skip: undefined,
        fn: () => 1,
        nan: Number.NaN,
        circular,
      }),
    ).toEqual({
      big: '10',
      at: '1970-01-01T00:00:00.000Z',
      map: { k: 1 },
      objMap: [[1, 'one']],
      set: [1, 2],
      bytes: [1, 2],
      error: { name: 'Error', message: 'nope', code: 'X', cause: { name: 'Error', message: 'root' } },
      nan: 'NaN',
      circular: { a: 1, self: '[Circular]' },
    });
  });

  it('keeps a value shared by two branches (not a cycle)', () => {
    const shared = { x: 1 };
    expect(toPlain({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });
});

describe('terminal text', () => {
  it('puts text on one line and escapes control characters', () => {
    expect(oneLine('a\n  b\r\nc')).toBe('a b c');
    expect(oneLine('red \u001b[31m')).toBe('red \\u001b[31m');
  });

  it('previews values briefly', () => {
    expect(preview(undefined)).toBe('—');
    expect(preview({ a: 'x'.repeat(200) }, 20)).toHaveLength(20);
    expect(duration(0)).toBe('0ms');
    expect(duration(17)).toBe('17ms');
    expect(duration(1500)).toBe('1.5s');
    expect(duration(12_345)).toBe('12.3s');
    expect(duration(120_000)).toBe('2m');
  });
});
