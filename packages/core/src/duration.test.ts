import { describe, expect, it } from 'vitest';
import { formatDuration, toMillis } from './duration.js';
import { type ErgonError, ErrorCode } from './errors.js';

describe('durations', () => {
  it('parses strings and numbers', () => {
    expect(toMillis('30s')).toBe(30_000);
    expect(toMillis('2h')).toBe(7_200_000);
    expect(toMillis('250ms')).toBe(250);
    expect(toMillis('1.5 days')).toBe(129_600_000);
    expect(toMillis('1500')).toBe(1500);
    expect(toMillis(42)).toBe(42);
    expect(toMillis(0)).toBe(0);
  });

  it('refuses nonsense with INVALID_DURATION', () => {
    for (const bad of ['soon', '', '-5s', -1, Number.NaN, Number.POSITIVE_INFINITY, null, {}]) {
      try {
        toMillis(bad as never, 'timeout');
        expect.unreachable(String(bad));
      } catch (error) {
        expect((error as ErgonError).code).toBe(ErrorCode.INVALID_DURATION);
        expect((error as Error).message).toContain('timeout');
      }
    }
  });

  it('formats for humans', () => {
    expect(formatDuration(0.5)).toBe('500µs');
    expect(formatDuration(12.34)).toBe('12.3ms');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(90_000)).toBe('2m');
    expect(formatDuration(7_200_000)).toBe('2h');
  });
});
