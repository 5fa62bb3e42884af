import type { StoreEvent } from '@ergon/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Doorbell } from './doorbell.js';
import type { ChangeSource, FeedEntry } from './feed-reader.js';
import { ChangeNotifier } from './notifier.js';

/** A change source standing in for a connection: `commit()` is another process's commit. */
function fakeSource() {
  let version = 0;
  const feed: FeedEntry[] = [];
  const source: ChangeSource = {
    dataVersion: () => version,
    lastSeq: () => feed.at(-1)?.seq ?? 0,
    readFeed: (seq, limit) => feed.filter((e) => e.seq > seq).slice(0, limit),
  };
  const commit = (event: StoreEvent) => {
    feed.push({ seq: feed.length + 1, origin: 'another-process', event });
    version++;
  };
  return { source, commit };
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

describe('ChangeNotifier', () => {
  it('delivers by polling when the doorbell cannot be watched', async () => {
    // A directory that does not exist: no doorbell can be created, rung or watched.
    const doorbell = new Doorbell('/nonexistent-ergon-dir/store.db');
    expect(doorbell.watch(() => {})).toBeUndefined();
    const notifier = new ChangeNotifier({ pollIntervalMs: [2, 10], doorbell });
    const { source, commit } = fakeSource();
    notifier.attach(source);
    const heard: StoreEvent[] = [];
    stops.push(notifier.listen((event) => heard.push(event)));
    stops.push(() => notifier.close());
    notifier.ring(); // fails quietly
    commit({ type: 'finished', flowId: 'f', status: 'completed' });
    const deadline = Date.now() + 5000;
    while (heard.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect(heard).toEqual([{ type: 'finished', flowId: 'f', status: 'completed' }]);
  });
});
