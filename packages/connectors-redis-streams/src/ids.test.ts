import { describe, expect, it } from 'vitest';
import { entryTransactionId, isEntryId, streamPrefix } from './ids.js';

describe('ids', () => {
  it('isEntryId accepts <ms>-<seq> and nothing else', () => {
    for (const id of ['0-0', '1700000000000-0', '1-23']) expect(isEntryId(id)).toBe(true);
    for (const id of [
      '',
      '-',
      '1-',
      '-1',
      '1',
      '1-2-3',
      '1--2',
      'a-1',
      '1-a',
      ' 1-2',
      '1-2 ',
      '1٣-2',
      '１-2',
    ])
      expect(isEntryId(id)).toBe(false);
  });

  it('entry transaction ids are the stream prefix and the entry id', () => {
    expect(entryTransactionId(streamPrefix('orders'), '1-2')).toBe('orders:1-2');
    expect(streamPrefix('{orders}')).toMatch(/^_orders_-[0-9a-f]{8}$/);
  });
});
