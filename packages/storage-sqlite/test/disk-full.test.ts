/**
 * A full disk is transient: on a real 4 MiB filesystem (tmpfs, mounted here
 * when the test runs as root), a store that hits `SQLITE_FULL` reports
 * `STORE_UNAVAILABLE`, checkpoints and truncates its WAL, and goes on writing
 * once there is room: its WAL never keeps the space it needs.
 *
 * Under `CI=true` a machine where the filesystem cannot be mounted fails the
 * run; elsewhere the suite is skipped with a loud message.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExecutionLog, runtimeStore } from '@ergon/core';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteExecutionLog } from '../src/index.js';

const T0 = Date.UTC(2030, 0, 1);
const VOLUME = '4m';
/** About 48 KiB of input per flow: a 4 MiB volume holds a few dozen. */
const INPUT = `["${'x'.repeat(48 * 1024)}"]`;

function mountSmallVolume(): { dir: string; unmount: () => void } | string {
  if (process.getuid?.() !== 0) return 'the test is not running as root (tmpfs needs mount)';
  const dir = mkdtempSync(join(tmpdir(), 'ergon-disk-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${VOLUME}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return `mount -t tmpfs failed: ${(error as Error).message.trim()}`;
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const volume = mountSmallVolume();
if (typeof volume === 'string') {
  const message = `cannot mount a ${VOLUME} tmpfs for the disk-full test: ${volume}`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
  console.warn(`\n*** SKIPPING the SQLite disk-full test: ${message} ***\n`);
}

describe.skipIf(typeof volume === 'string')(`SqliteExecutionLog on a full ${VOLUME} filesystem`, () => {
  const { dir, unmount } = volume as Exclude<typeof volume, string>;
  afterAll(() => unmount());

  let n = 0;
  /** Creates, claims, finishes (and, when `purge`, deletes) one flow; the store's error if it fails. */
  async function cycle(store: ReturnType<typeof runtimeStore>, purge: boolean): Promise<unknown> {
    const id = `f-${n++}`;
    try {
      await store.createFlow({ id, type: 't', queue: 'q', input: INPUT, priority: 0, runAt: T0, now: T0 });
      const [claimed] = await store.claim({
        workerId: 'w',
        types: ['t'],
        queues: ['q'],
        limit: 1,
        leaseMs: 60_000,
        now: T0,
        flowId: id,
      });
      if (!claimed) throw new Error(`flow ${id} was not claimable`);
      await store.finishFlow({
        flowId: id,
        token: claimed.token,
        status: 'completed',
        result: '[1]',
        now: T0,
      });
      if (purge) await store.purge({ finishedBefore: T0 + 1, limit: 10 });
      return undefined;
    } catch (error) {
      return error;
    }
  }

  /** Creates one flow; the store's error if it fails. */
  async function create(store: ReturnType<typeof runtimeStore>): Promise<unknown> {
    const id = `f-${n++}`;
    return store
      .createFlow({ id, type: 't', queue: 'q', input: INPUT, priority: 0, runAt: T0, now: T0 })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
  }

  const walSize = (path: string) => {
    try {
      return statSync(`${path}-wal`).size;
    } catch {
      return 0;
    }
  };

  it('recovers from a WAL that filled the volume with old versions as soon as a little space is freed', async () => {
    const path = join(dir, 'churn.db');
    const ballast = join(dir, 'ballast-churn');
    writeFileSync(ballast, Buffer.alloc(256 * 1024));
    const raw: ExecutionLog = await SqliteExecutionLog.open({ path });
    const store = runtimeStore(raw);
    try {
      // Little is live at any time, but SQLite checkpoints only past 1000 pages (4 MiB):
      // the WAL fills the volume with versions the data no longer needs.
      let full: unknown;
      for (let i = 0; i < 200 && !full; i++) full = await cycle(store, true);
      expect(full, 'the volume never filled').toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect((full as Error).message).toMatch(/disk is full/);
      expect(await cycle(store, true)).toMatchObject({ code: 'STORE_UNAVAILABLE' });

      rmSync(ballast);
      // The owed checkpoint runs before the WAL can grow into the freed space, and
      // truncates it: from then on ~19 MiB go through the 4 MiB volume.
      const failures: unknown[] = [];
      for (let i = 0; i < 400; i++) {
        const error = await cycle(store, true);
        if (error) failures.push(error);
      }
      expect(failures).toEqual([]);
      expect(walSize(path)).toBeLessThan(4 * 1024 * 1024);
    } finally {
      await store.close();
      rmSync(ballast, { force: true });
      for (const suffix of ['', '-wal', '-shm', '-ergon-wake']) rmSync(path + suffix, { force: true });
    }
  });

  it('fails writes with STORE_UNAVAILABLE while the disk is full and recovers once space is freed', async () => {
    const path = join(dir, 'fill.db');
    const ballast = join(dir, 'ballast');
    writeFileSync(ballast, Buffer.alloc(2560 * 1024));
    const raw: ExecutionLog = await SqliteExecutionLog.open({ path });
    const store = runtimeStore(raw);
    try {
      // Fill the volume with live flows until a write fails for space.
      let full: unknown;
      for (let i = 0; i < 200 && !full; i++) full = await create(store);
      expect(full, 'the volume never filled').toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect((full as Error).message).toMatch(/disk is full/);
      // Still full: writes keep failing, transiently, and reads still work.
      expect(await cycle(store, false)).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      const kept = (await store.listFlows({ limit: 1000 })).flows.length;
      expect(kept).toBeGreaterThan(10);

      rmSync(ballast);
      // Room again: the first write checkpoints the WAL into the database and truncates it
      // before growing it, so the data is held once and the freed space stays free.
      expect(await cycle(store, false)).toBeUndefined();
      expect(walSize(path)).toBeLessThan(256 * 1024);
      const after: unknown[] = [];
      for (let i = 0; i < 9; i++) after.push(await cycle(store, false));
      expect(after.filter(Boolean)).toEqual([]);
      const flows = (await store.listFlows({ limit: 1000 })).flows;
      expect(flows.length).toBe(kept + 10);
      expect(flows.filter((f) => f.status === 'completed')).toHaveLength(10);
    } finally {
      await store.close();
      rmSync(ballast, { force: true });
      for (const suffix of ['', '-wal', '-shm', '-ergon-wake']) rmSync(path + suffix, { force: true });
    }
  });
});
