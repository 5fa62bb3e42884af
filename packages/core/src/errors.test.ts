import { describe, expect, it } from 'vitest';
import {
  ErgonError,
  ErrorCode,
  hasErrorCode,
  InvalidArgumentError,
  isErgonError,
  toError,
} from './errors.js';
import { NonRetryableError } from './retry.js';

describe('ErgonError', () => {
  it('carries a stable code, the cause and frozen details', () => {
    const cause = new Error('driver said no');
    const error = new ErgonError(ErrorCode.STORE_UNAVAILABLE, 'store down', {
      cause,
      details: { host: 'x' },
    });
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ host: 'x' });
    expect(Object.isFrozen(error.details)).toBe(true);
    expect(error.name).toBe('ErgonError');
    expect(new InvalidArgumentError('bad').name).toBe('InvalidArgumentError');
    expect(hasErrorCode(error, ErrorCode.STORE_UNAVAILABLE)).toBe(true);
    expect(hasErrorCode(error, ErrorCode.INTERNAL)).toBe(false);
  });

  it('has codes equal to their keys, all distinct', () => {
    for (const [key, value] of Object.entries(ErrorCode)) expect(value).toBe(key);
  });

  it('is recognised across duplicate package copies by its Symbol.for brand', () => {
    // A second copy of @ergon/core defines its own classes but the same global brand.
    class CopyErgonError extends Error {
      code = 'FLOW_NOT_FOUND';
    }
    Object.defineProperty(CopyErgonError.prototype, Symbol.for('@ergon/core/ErgonError'), { value: true });
    class InvalidArgumentErrorCopy extends CopyErgonError {}
    Object.defineProperty(InvalidArgumentErrorCopy, 'name', { value: 'InvalidArgumentError' });
    const foreign = new InvalidArgumentErrorCopy('x');
    expect(isErgonError(foreign)).toBe(true);
    expect(foreign instanceof ErgonError).toBe(true);
    expect(foreign instanceof InvalidArgumentError).toBe(true);
    expect(foreign instanceof NonRetryableError).toBe(false);
    expect(isErgonError(new Error('plain'))).toBe(false);
    expect(new Error('plain') instanceof ErgonError).toBe(false);
    expect(isErgonError(null)).toBe(false);
  });

  it('subclass instanceof still works normally', () => {
    const error = new NonRetryableError('x');
    expect(error instanceof ErgonError).toBe(true);
    expect(error instanceof NonRetryableError).toBe(true);
    expect(error instanceof InvalidArgumentError).toBe(false);
  });

  it('toError wraps non-errors and keeps errors', () => {
    const e = new Error('x');
    expect(toError(e)).toBe(e);
    const wrapped = toError({ weird: 1 });
    expect(isErgonError(wrapped) && wrapped.code).toBe(ErrorCode.INTERNAL);
    expect((wrapped as Error).cause).toEqual({ weird: 1 });
  });
});
