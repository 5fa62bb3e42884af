import { describe, expect, it } from 'vitest';
import { progressBar, progressSummary } from './progress.js';

describe('progressBar', () => {
  it('draws a fraction in 0..1 and current/total or done/total', () => {
    expect(progressBar(0.425)).toEqual({ fraction: 0.425, label: '42%' });
    expect(progressBar(0)).toEqual({ fraction: 0, label: '0%' });
    expect(progressBar(1)).toEqual({ fraction: 1, label: '100%' });
    expect(progressBar({ current: 3, total: 4 })).toEqual({ fraction: 0.75, label: '3 / 4 (75%)' });
    expect(progressBar({ done: 1500, total: 20000, phase: 'load' })).toEqual({
      fraction: 0.075,
      label: '1,500 / 20,000 (7.5%)',
    });
    // Past the total: a full bar, the counts as they are.
    expect(progressBar({ current: 5, total: 4 })).toEqual({ fraction: 1, label: '5 / 4 (100%)' });
  });

  it('draws nothing for values that do not say how far along the flow is', () => {
    for (const value of [
      1.5,
      -0.1,
      Number.NaN,
      'half',
      null,
      undefined,
      [1, 2],
      { current: 1 },
      { current: 1, total: 0 },
      { current: '1', total: 2 },
      { current: -1, total: 2 },
      { done: 1, total: Number.POSITIVE_INFINITY },
    ]) {
      expect(progressBar(value), JSON.stringify(value)).toBeUndefined();
    }
  });
});

describe('progressSummary', () => {
  it('is the bar’s words with its fraction, or the value on one cut line', () => {
    expect(progressSummary({ current: 1, total: 2 })).toEqual({ text: '1 / 2 (50%)', fraction: 0.5 });
    expect(progressSummary('loading\n  rows')).toEqual({ text: 'loading rows' });
    expect(progressSummary({ phase: 'copy' })).toEqual({ text: '{ "phase": "copy" }' });
    expect(progressSummary('x'.repeat(200)).text).toHaveLength(81);
  });
});
