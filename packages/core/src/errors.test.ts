import { describe, expect, it } from 'vitest';
import {
  ErgonError,
  ErrorCode,
  hasErrorCode,
  InvalidArgumentError,
  isErgonError,
  NON_RETRYABLE_CODES,
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

  it('is recognised across duplicate package copies by a Symbol.for brand per class', () => {
    // A second copy of @ergon/core defines its own classes but the same global brands.
    class CopyErgonError extends Error {
      code = 'INVALID_ARGUMENT';
    }
    Object.defineProperty(CopyErgonError.prototype, Symbol.for('@ergon/core/ErgonError'), { value: true });
    class InvalidArgumentErrorCopy extends CopyErgonError {}
    Object.defineProperty(
      InvalidArgumentErrorCopy.prototype,
      Symbol.for('@ergon/core/InvalidArgumentError'),
      {
        value: true,
      },
    );
    const foreign = new InvalidArgumentErrorCopy('x');
    expect(isErgonError(foreign)).toBe(true);
    expect(foreign instanceof ErgonError).toBe(true);
    expect(foreign instanceof InvalidArgumentError).toBe(true);
    expect(foreign instanceof NonRetryableError).toBe(false);
    expect(isErgonError(new Error('plain'))).toBe(false);
    expect(new Error('plain') instanceof ErgonError).toBe(false);
    expect(isErgonError(null)).toBe(false);
  });

  it('does not match a class by its name alone', () => {
    class Impostor extends ErgonError {}
    Object.defineProperty(Impostor, 'name', { value: 'InvalidArgumentError' });
    const error = new Impostor(ErrorCode.INVALID_ARGUMENT, 'x');
    expect(error instanceof ErgonError).toBe(true);
    expect(error instanceof Impostor).toBe(true);
    expect(error instanceof InvalidArgumentError).toBe(false);
  });

  it('derives retryability from the code, one set for every class', () => {
    for (const code of Object.values(ErrorCode)) {
      expect(new ErgonError(code, 'x').isRetryable()).toBe(!NON_RETRYABLE_CODES.has(code));
    }
    expect(new ErgonError(ErrorCode.STORE_CORRUPT, 'x').isRetryable()).toBe(false);
    expect(new ErgonError(ErrorCode.STORE_UNAVAILABLE, 'x').isRetryable()).toBe(true);
    expect(new InvalidArgumentError('x').isRetryable()).toBe(false);
    expect(new NonRetryableError('x').isRetryable()).toBe(false);
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
