import { describe, expect, it } from 'vitest';
import { HeldEntries } from './held.js';

function holding(...ids: string[]): HeldEntries {
  const held = new HeldEntries();
  ids.forEach((id, i) => {
    held.add(id, i + 1);
  });
  return held;
}

describe('HeldEntries', () => {
  it('lets a batch go in the order it came, and keeps the rest with their delivery counts', () => {
    const held = holding('1-0', '2-0', '3-0', '4-0');
    held.deleteAll(['1-0', '2-0']);
    expect(held.ids()).toEqual(['3-0', '4-0']);
    expect(held.deliveries('3-0')).toBe(3);
    expect(held.deliveries('1-0')).toBeUndefined();
    held.deleteAll(['3-0', '4-0']);
    expect(held.size).toBe(0);
  });

  it('lets ids go in any order, and ignores ids it does not hold', () => {
    const held = holding('1-0', '2-0', '3-0', '4-0');
    held.deleteAll(['3-0', '9-0', '1-0']);
    expect(held.ids()).toEqual(['2-0', '4-0']);
    expect(held.deliveries('4-0')).toBe(4);
    held.delete('4-0');
    held.delete('9-0');
    expect(held.ids()).toEqual(['2-0']);
    expect(held.has('2-0')).toBe(true);
    expect(held.has('4-0')).toBe(false);
    expect(held.roomUnder(3)).toBe(2);
  });

  it('wakes a fetch waiting for room when an entry goes, and not before', async () => {
    const held = holding('1-0', '2-0');
    let room: number | undefined;
    const waiting = held.room(2, { timeoutMs: 5000, stopped: () => false }).then((r) => {
      room = r;
    });
    held.deleteAll(['9-0']);
    await Promise.resolve();
    expect(room).toBeUndefined();
    held.deleteAll(['2-0']);
    await waiting;
    expect(room).toBe(1);
  });
});
