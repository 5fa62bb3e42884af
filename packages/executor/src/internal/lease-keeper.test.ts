import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LeaseHolder, LeaseKeeper } from './lease-keeper.js';

/** A holder that notes the (fake) time of each renewal it is asked for. */
function holder(): LeaseHolder & { readonly at: number[] } {
  const at: number[] = [];
  return { at, renewLease: () => at.push(Date.now()) };
}

describe('LeaseKeeper', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('renews each lease between half a heartbeat and one heartbeat after it was held, then every heartbeat', () => {
    const keeper = new LeaseKeeper(100);
    const early = holder();
    keeper.hold(early);
    vi.advanceTimersByTime(30);
    const late = holder();
    keeper.hold(late);
    vi.advanceTimersByTime(370);
    expect(early.at).toEqual([100, 200, 300, 400]);
    // Held at 30: first asked at 100 (70 ms later), then every 100 ms.
    expect(late.at).toEqual([100, 200, 300, 400]);
    const third = holder();
    vi.advanceTimersByTime(1);
    keeper.hold(third); // at 401: the ticks at 450 and 500
    vi.advanceTimersByTime(199);
    expect(third.at).toEqual([500, 600]);
  });

  it('stops asking a dropped holder, and its one timer once nothing is held', () => {
    const keeper = new LeaseKeeper(100);
    const a = holder();
    keeper.hold(a);
    keeper.drop(a);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(500);
    expect(a.at).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    keeper.hold(a);
    vi.advanceTimersByTime(100);
    expect(a.at).toEqual([600]);
    expect(keeper.size).toBe(1);
  });

  it('keeps one timer for many holders', () => {
    const keeper = new LeaseKeeper(100);
    const holders = Array.from({ length: 50 }, () => holder());
    for (const h of holders) keeper.hold(h);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    for (const h of holders) expect(h.at).toEqual([100]);
  });
});
