/**
 * What the store-level tests here share: a fixed clock, a new flow of the `order` type in queue
 * `q`, and stores on a temporary file, closed and removed after each test.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewFlow } from '@ergon/core';
import { afterEach } from 'vitest';
import { SqliteExecutionLog } from '../src/index.js';

export const T0 = Date.UTC(2030, 0, 1);

export const newFlow = (id: string, extra: Partial<NewFlow> = {}): NewFlow => ({
  id,
  type: 'order',
  queue: 'q',
  input: '1',
  priority: 0,
  runAt: T0,
  now: T0,
  ...extra,
});

/**
 * Call at the top of a test file: returns `open(count)`, which opens `count` stores (connections)
 * on one new file, and `later(fn)`, run after the test. After each test the stores close and the
 * file goes.
 */
export function tempStores(name: string) {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function open(count: number): Promise<SqliteExecutionLog[]> {
    const path = join(tmpdir(), `ergon-${name}-${randomUUID()}.db`);
    cleanups.push(() => {
      for (const suffix of ['', '-wal', '-shm', '-ergon-wake']) rmSync(path + suffix, { force: true });
    });
    const stores: SqliteExecutionLog[] = [];
    for (let i = 0; i < count; i++) {
      const store = await SqliteExecutionLog.open({ path });
      cleanups.push(() => store.close());
      stores.push(store);
    }
    return stores;
  }
  return { open, later: (fn: () => unknown) => cleanups.push(fn) };
}
