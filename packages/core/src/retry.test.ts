import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ErgonError, ErrorCode } from './errors.js';
import { isRetryableError, NonRetryableError, RetryPolicy } from './retry.js';

describe('RetryPolicy', () => {
  it('has the presets of DESIGN §2.3', () => {
    expect(RetryPolicy.NONE.maxAttempts).toBe(1);
    expect(RetryPolicy.STANDARD.toOptions()).toEqual({
      maxAttempts: 3,
      initialDelay: 1000,
      maxDelay: 30000,
      multiplier: 2,
      jitter: 0,
    });
    expect(RetryPolicy.AGGRESSIVE.toOptions()).toEqual({
      maxAttempts: 10,
      initialDelay: 100,
      maxDelay: 10000,
      multiplier: 1.5,
      jitter: 0,
    });
    expect(Object.isFrozen(RetryPolicy.STANDARD)).toBe(true);
  });

  it('computes min(initialDelay × multiplier^(n−1), maxDelay)', () => {
    const p = RetryPolicy.STANDARD;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => p.delayAfter(n))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
    expect([1, 2, 3].map((n) => RetryPolicy.AGGRESSIVE.delayAfter(n))).toEqual([100, 150, 225]);
  });

  const policies = fc
    .record({
      maxAttempts: fc.integer({ min: 1, max: 50 }),
      initialDelay: fc.integer({ min: 0, max: 10_000 }),
      extra: fc.integer({ min: 0, max: 100_000 }),
      multiplier: fc.double({ min: 1, max: 5, noNaN: true }),
      jitter: fc.oneof(fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true })),
    })
    .map(
      ({ extra, initialDelay, ...rest }) =>
        new RetryPolicy({ ...rest, initialDelay, maxDelay: initialDelay + extra }),
    );

  it('never exceeds maxDelay, jittered or not (property)', () => {
    fc.assert(
      fc.property(
        policies,
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (p, n, r) => {
          const d = p.delayAfter(n, () => r);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(p.maxDelay);
        },
      ),
    );
  });

  it('grows monotonically without jitter, as specified (property)', () => {
    fc.assert(
      fc.property(policies, fc.integer({ min: 1, max: 60 }), (p, n) => {
        const plain = p.with({ jitter: false });
        const expected = Math.min(plain.initialDelay * plain.multiplier ** (n - 1), plain.maxDelay);
        expect(plain.delayAfter(n)).toBeCloseTo(expected, 6);
        expect(plain.delayAfter(n + 1)).toBeGreaterThanOrEqual(plain.delayAfter(n));
      }),
    );
  });

  it('jitters downward within [d × (1 − jitter), d]', () => {
    const p = new RetryPolicy({ maxAttempts: 5, initialDelay: 1000, maxDelay: 1000, jitter: 0.25 });
    expect(p.delayAfter(1, () => 0)).toBe(1000);
    expect(p.delayAfter(1, () => 0.999999)).toBe(750);
  });

  it('refuses invalid policies at construction with INVALID_RETRY_POLICY', () => {
    const bad = [
      { maxAttempts: 0 },
      { maxAttempts: -1 },
      { maxAttempts: Number.NaN },
      { maxAttempts: 1.5 },
      { maxAttempts: 3, initialDelay: -5 },
      { maxAttempts: 3, initialDelay: Number.NaN },
      { maxAttempts: 3, initialDelay: 'soon' },
      { maxAttempts: 3, multiplier: 0.5 },
      { maxAttempts: 3, multiplier: Number.NaN },
      { maxAttempts: 3, multiplier: Number.POSITIVE_INFINITY },
      { maxAttempts: 3, initialDelay: 1000, maxDelay: 10 },
      { maxAttempts: 3, jitter: 2 },
      { maxAttempts: 3, jitter: Number.NaN },
      { maxAttempts: 3, timeout: 0 },
    ];
    for (const options of bad) {
      let code: string | undefined;
      try {
        new RetryPolicy(options as never);
      } catch (error) {
        code = (error as ErgonError).code;
        expect((error as Error).message).toMatch(/invalid retry policy: \w+/);
      }
      expect(code, JSON.stringify(options)).toBe(ErrorCode.INVALID_RETRY_POLICY);
    }
  });

  it('refuses missing options (new RetryPolicy()) with INVALID_RETRY_POLICY, not a TypeError', () => {
    for (const options of [undefined, null, 3, 'standard']) {
      let caught: unknown;
      try {
        new RetryPolicy(options as never);
      } catch (error) {
        caught = error;
      }
      expect(caught, String(options)).toMatchObject({ code: ErrorCode.INVALID_RETRY_POLICY });
      expect((caught as Error).message).toContain('maxAttempts');
    }
  });

  it('accepts duration strings and unlimited attempts', () => {
    const p = new RetryPolicy({
      maxAttempts: Number.POSITIVE_INFINITY,
      initialDelay: '2s',
      maxDelay: '1m',
      timeout: '5s',
    });
    expect(p.initialDelay).toBe(2000);
    expect(p.maxDelay).toBe(60000);
    expect(p.timeout).toBe(5000);
    expect(p.shouldRetry(1_000_000, new Error('x'))).toBe(true);
  });

  it('stops on the last attempt and on non-retryable errors', () => {
    const p = RetryPolicy.STANDARD;
    expect(p.shouldRetry(1, new Error('x'))).toBe(true);
    expect(p.shouldRetry(3, new Error('x'))).toBe(false);
    expect(p.shouldRetry(1, new NonRetryableError('no'))).toBe(false);
  });
});

describe('isRetryableError', () => {
  it('retries by default and honours the Retryable interface', () => {
    class Declined extends Error {
      isRetryable() {
        return false;
      }
    }
    class Timeout extends Error {
      isRetryable() {
        return true;
      }
    }
    expect(isRetryableError(new Error('x'))).toBe(true);
    expect(isRetryableError('string')).toBe(true);
    expect(isRetryableError(new Declined())).toBe(false);
    expect(isRetryableError(new Timeout())).toBe(true);
    expect(isRetryableError(new NonRetryableError('x'))).toBe(false);
    expect(isRetryableError(Object.assign(new Error('x'), { retryable: false }))).toBe(false);
  });
});
