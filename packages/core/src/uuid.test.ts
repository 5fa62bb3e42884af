import { describe, expect, it } from 'vitest';
import { uuidv7 } from './uuid.js';

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('writes the time in its first 48 bits and sets the version and variant', () => {
    for (const ms of [0, 1, 0xffff_ffff, 2 ** 32, Date.UTC(2030, 0, 1), 2 ** 48 - 1]) {
      const id = uuidv7(ms);
      expect(id).toMatch(FORMAT);
      expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
    }
    expect(uuidv7(1234.9).slice(0, 13)).toBe(uuidv7(1234).slice(0, 13));
  });

  it('sorts by time, and no two ids are alike across many refills of its random pool', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => uuidv7(1_700_000_000_000 + Math.floor(i / 7)));
    expect(new Set(ids).size).toBe(ids.length);
    // In string order, the ids' times never go back.
    const times = [...ids].sort().map((id) => Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const id of ids) expect(id).toMatch(FORMAT);
    // Every hex digit of the random part shows up: the bits are not stuck.
    const randomPart = ids.map((id) => id.slice(24)).join('');
    expect(new Set(randomPart).size).toBe(16);
  });

  it('refuses a time it cannot hold', () => {
    expect(() => uuidv7(-1)).toThrow(RangeError);
    expect(() => uuidv7(2 ** 48)).toThrow(RangeError);
    expect(() => uuidv7(Number.NaN)).toThrow(RangeError);
  });
});
