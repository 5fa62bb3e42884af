import { describe, expect, it } from 'vitest';
import { RedisExecutionLog } from './index.js';
import { validatePrefix } from './internal/keys.js';
import { resolveOptions } from './options.js';

describe('options', () => {
  it.each([
    ['a space', 'has space'],
    ['an opening brace', 'br{ace'],
    ['a closing brace', 'br}ace'],
    ['a tag of its own', '{ergon}'],
    ['a control character', 'ctl\u0001x'],
    ['a newline', 'line\nbreak'],
    ['a glob character', 'star*'],
    ['nothing', ''],
    ['65 characters', 'x'.repeat(65)],
  ])('rejects a prefix with %s (INVALID_ARGUMENT), before connecting', async (_, prefix) => {
    expect(() => validatePrefix(prefix)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    // A port nothing listens on: the refusal comes from validation, not from the network.
    await expect(RedisExecutionLog.open({ url: 'redis://127.0.0.1:1', prefix })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('accepts colons, dots, slashes and dashes in a prefix', () => {
    for (const prefix of ['ergon', 'app:ergon', 'team/app.v2', 'a-b_c@d'])
      expect(validatePrefix(prefix)).toBe(prefix);
  });

  it('validates the rest and freezes the result', () => {
    const resolved = resolveOptions({ prefix: 'p' });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(resolved).toMatchObject({
      prefix: 'p',
      url: 'redis://127.0.0.1:6379',
      allowEvictionPolicy: false,
    });
    expect(() => resolveOptions({ url: 'http://x' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => resolveOptions({ commandTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('fails with STORE_UNAVAILABLE, not a hang, when Redis cannot be reached', async () => {
    const started = Date.now();
    await expect(
      RedisExecutionLog.open({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 500 }),
    ).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
