import { describe, expect, it } from 'vitest';
import { errorLine, preview } from './values.js';

describe('preview', () => {
  it('pretty-prints the codec’s richer types and cuts long text, saying how long it was', () => {
    const value = {
      when: new Date(0),
      big: 10n,
      tags: new Set(['a']),
      map: new Map([['k', 1]]),
      none: undefined,
    };
    expect(JSON.parse(preview(value).text)).toEqual({
      when: '1970-01-01T00:00:00.000Z',
      big: '10n',
      tags: { '[Set]': ['a'] },
      map: { '[Map]': [['k', 1]] },
      none: '[undefined]',
    });
    const long = preview('x'.repeat(50), 10);
    expect(long).toMatchObject({ truncated: true, length: 52 });
    expect(long.text.startsWith('"xxxxxxxxx')).toBe(true);
  });

  it('survives cycles and shows errors with their code', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(preview(cyclic).text).toContain('[circular]');
    const error = Object.assign(new Error('card\ndeclined'), { code: 'PAYMENT' });
    expect(errorLine(error)).toBe('Error: card declined [PAYMENT]');
    expect(errorLine(undefined)).toBeUndefined();
  });
});
