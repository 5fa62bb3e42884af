import { describe, expect, it } from 'vitest';
import { describeReason } from './connector.js';
import { ErrorCode } from './errors.js';
import { NonRetryableError } from './retry.js';

describe('describeReason', () => {
  it('keeps an error’s name, message and string code', () => {
    expect(describeReason(new NonRetryableError('bad order'))).toEqual({
      code: ErrorCode.NON_RETRYABLE,
      name: 'NonRetryableError',
      message: 'bad order',
    });
    const plain = Object.assign(new TypeError('no'), { code: 42 });
    expect(describeReason(plain)).toEqual({ name: 'TypeError', message: 'no' });
  });

  it('says when there was no reason, and turns other values into text', () => {
    expect(describeReason(undefined)).toEqual({ message: 'nacked without requeue' });
    expect(describeReason('out of stock')).toEqual({ message: 'out of stock' });
    expect(describeReason({ sku: 'A-1' })).toEqual({ message: '{"sku":"A-1"}' });
    expect(describeReason(Symbol.for('s'))).toEqual({ message: 'Symbol(s)' });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(describeReason(cycle)).toEqual({ message: '[object Object]' });
    expect(describeReason(10n)).toEqual({ message: '10' });
  });
});
