import { describe, expect, it } from 'vitest';
import { createRedactor, DEFAULT_REDACT_KEYS, normalizeKey, REDACTED } from './redact.js';

const redact = createRedactor({ keys: [...DEFAULT_REDACT_KEYS, 'ssn'] });

describe('createRedactor', () => {
  it('redacts configured keys at any depth, ignoring case, `-`, `_` and `.`', () => {
    const out = redact({
      Password: 'p',
      nested: { deeper: { API_KEY: 'k', 'Api-Key': 'k', apiKey: 'k', keep: 1 } },
      list: [{ ssn: 's' }, [{ Authorization: 'a' }]],
      map: new Map<unknown, unknown>([
        ['Set-Cookie', 'c'],
        [7, { token: 't' }],
      ]),
      set: new Set([{ secret: 'x' }]),
    });
    expect(out).toEqual({
      Password: REDACTED,
      nested: { deeper: { API_KEY: REDACTED, 'Api-Key': REDACTED, apiKey: REDACTED, keep: 1 } },
      list: [{ ssn: REDACTED }, [{ Authorization: REDACTED }]],
      map: { 'Set-Cookie': REDACTED, '7': { token: REDACTED } },
      set: [{ secret: REDACTED }],
    });
    expect(normalizeKey('X-API.Key_')).toBe('xapikey');
  });

  it('redacts a whole subtree under a secret key, whatever its type', () => {
    expect(redact({ credentials: { user: 'u', password: 'p' }, token: 42 })).toEqual({
      credentials: REDACTED,
      token: REDACTED,
    });
  });

  it('serialises errors with their properties, cause and code, redacted', () => {
    const cause = Object.assign(new Error('inner'), { password: 'p' });
    const error = Object.assign(new TypeError('outer', { cause }), { code: 'E_X', headers: { cookie: 'c' } });
    const out = redact({ error }) as { error: Record<string, unknown> };
    expect(out.error).toMatchObject({
      name: 'TypeError',
      message: 'outer',
      code: 'E_X',
      headers: { cookie: REDACTED },
      cause: { name: 'Error', message: 'inner', password: REDACTED },
    });
    expect(typeof out.error.stack).toBe('string');
  });

  it('makes any value JSON-safe and never throws', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const shared = { v: 1 };
    const throwing = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { deep };
    const out = redact({
      big: 10n ** 20n,
      when: new Date('2024-01-02T03:04:05.000Z'),
      bad: new Date(Number.NaN),
      nan: Number.NaN,
      fn: function named() {},
      sym: Symbol('s'),
      undef: undefined,
      bytes: Buffer.from('secret bytes'),
      url: new URL('https://user:hunter2@example.com/path'),
      cyclic,
      twice: [shared, shared],
      throwing,
      deep,
      json: { toJSON: () => ({ token: 't', ok: true }) },
    });
    expect(() => JSON.stringify(out)).not.toThrow();
    expect(out).toMatchObject({
      big: '100000000000000000000',
      when: '2024-01-02T03:04:05.000Z',
      bad: 'Invalid Date',
      nan: 'NaN',
      fn: '[Function named]',
      sym: 'Symbol(s)',
      bytes: '[Buffer 12 bytes]',
      cyclic: { name: 'loop', self: '[Circular]' },
      twice: [{ v: 1 }, { v: 1 }],
      throwing: { boom: '[Unserializable]' },
      json: { token: REDACTED, ok: true },
    });
    expect(out).not.toHaveProperty('undef');
    expect(String(out.url)).not.toContain('hunter2');
    expect(JSON.stringify(out.deep)).toContain('[Truncated]');
  });

  it('redacts nothing when given no keys', () => {
    expect(createRedactor({ keys: [] })({ password: 'p' })).toEqual({ password: 'p' });
  });
});
