/**
 * Several processes on one SQLite file: each flow claimed and finished exactly
 * once, no SQLITE_BUSY anywhere, events cross process boundaries, and the file
 * passes `PRAGMA integrity_check`. The children run the built package (dist).
 */
import { execFileSync, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StoreEvent } from '@ergon/core';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..');
const WORKERS = 4;
const FLOWS = 300;
const T0 = Date.UTC(2030, 0, 1);

type Done = { type: 'done'; claimed: string[]; errors: { code?: string; message: string }[] };

/** Builds dist when it is missing or older than a source file, so the children run this code. */
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
        entry.isDirectory()
          ? newest(join(dir, entry.name))
          : entry.name.endsWith('.test.ts')
            ? 0
            : statSync(join(dir, entry.name)).mtimeMs,
      ),
    );
  let built = 0;
  try {
    built = statSync(join(packageDir, 'dist', 'index.js')).mtimeMs;
  } catch {
    // not built yet
  }
  if (built >= newest(join(packageDir, 'src'))) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: packageDir, stdio: 'inherit' });
}

describe('SqliteExecutionLog across processes', () => {
  const path = join(tmpdir(), `ergon-multiprocess-${randomUUID()}.db`);
  let SqliteExecutionLog: typeof import('../src/index.js').SqliteExecutionLog;

  beforeAll(async () => {
    ensureBuilt();
    // The parent uses the same build as the children.
    const dist = pathToFileURL(join(packageDir, 'dist', 'index.js')).href;
    ({ SqliteExecutionLog } = (await import(dist)) as typeof import('../src/index.js'));
  }, 60_000);

  afterAll(() => {
    for (const suffix of ['', '-wal', '-shm', '-ergon-wake']) rmSync(path + suffix, { force: true });
  });

  it('finishes every flow exactly once under 4 competing processes, with no SQLITE_BUSY', async () => {
    const store = await SqliteExecutionLog.open({ path, pollIntervalMs: [2, 50] });
    const ids = Array.from({ length: FLOWS }, (_, i) => `mp-${i}`);
    for (const id of ids) {
      await store.createFlow({
        id,
        type: 'work',
        queue: 'default',
        input: '[]',
        priority: 0,
        runAt: T0,
        now: T0,
      });
    }
    const finishedElsewhere = new Set<string>();
    const stop = store.subscribe((event: StoreEvent) => {
      if (event.type === 'finished') finishedElsewhere.add(event.flowId);
    });

    const children = Array.from({ length: WORKERS }, (_, w) =>
      fork(join(here, 'hammer-worker.mjs'), [path, `w${w}`], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const exits = children.map(
      (child) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
    );
    const results = children.map(
      (child) =>
        new Promise<Done>((resolve, reject) => {
          child.on('message', (message: { type: string }) => {
            if (message.type === 'done') resolve(message as Done);
          });
          child.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)));
        }),
    );
    // Start together, once every child has opened the file, so they really compete.
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) =>
            child.on('message', (message: { type: string }) => message.type === 'ready' && resolve()),
          ),
      ),
    );
    for (const child of children) child.send('go');
    const reports = await Promise.all(results);
    expect(await Promise.all(exits)).toEqual(Array(WORKERS).fill(0));

    const errors = reports.flatMap((r) => r.errors);
    expect(errors).toEqual([]);
    const claimed = reports.flatMap((r) => r.claimed);
    expect(claimed).toHaveLength(FLOWS);
    expect(new Set(claimed)).toEqual(new Set(ids));
    // The work was shared: more than one process won claims.
    expect(reports.filter((r) => r.claimed.length > 0).length).toBeGreaterThan(1);

    const page = await store.listFlows({ statuses: ['completed'], limit: 1000 });
    expect(page.flows).toHaveLength(FLOWS);
    for (const [w, report] of reports.entries()) {
      for (const id of report.claimed) {
        expect(page.flows.find((f) => f.id === id)).toMatchObject({
          runCount: 1,
          result: JSON.stringify([`w${w}`]),
        });
        expect((await store.getHistory(id)).map((h) => h.position)).toEqual([0, 1, 2]);
      }
    }

    // Finished events of the children reached this process through data_version and the feed.
    const deadline = Date.now() + 5000;
    while (finishedElsewhere.size < FLOWS && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(finishedElsewhere.size).toBe(FLOWS);
    stop();
    await store.close();

    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare('select count(*) from history').pluck().get()).toBe(FLOWS * 3);
    } finally {
      db.close();
    }
  }, 30_000);
  /** Runs ring-worker.mjs: another process creates flow `flowId` (queue `rung`) and exits. */
  async function createElsewhere(flowId: string, watch: 'on' | 'off', count?: number): Promise<void> {
    const args = count === undefined ? [path, flowId, watch] : [path, flowId, watch, String(count)];
    const child = fork(join(here, 'ring-worker.mjs'), args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(await exited).toBe(0);
  }

  it('hears a commit of another process through the doorbell long before the next poll', async () => {
    // The poll would first look after 10 s: only the doorbell can deliver sooner.
    const store = await SqliteExecutionLog.open({ path, pollIntervalMs: [10_000, 10_000] });
    const heard: StoreEvent[] = [];
    const stop = store.subscribe((event: StoreEvent) => heard.push(event));
    try {
      const started = Date.now();
      await createElsewhere('rung-1', 'on');
      while (heard.length === 0 && Date.now() - started < 8000) await new Promise((r) => setTimeout(r, 5));
      expect(heard).toEqual([{ type: 'ready', queue: 'rung', at: undefined }]);
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      stop();
      await store.close();
    }
  }, 30_000);

  it('hears every event of a commit that made several (one feed row for them all)', async () => {
    const store = await SqliteExecutionLog.open({ path });
    const heard: StoreEvent[] = [];
    const stop = store.subscribe((event: StoreEvent) => heard.push(event));
    try {
      const started = Date.now();
      await createElsewhere('batch', 'on', 3);
      while (heard.length < 3 && Date.now() - started < 8000) await new Promise((r) => setTimeout(r, 5));
      expect(heard.map((event) => event.type === 'ready' && event.queue)).toEqual(['rung', 'rung', 'rung']);
      // The first is due at once (no `at`), the others 1 and 2 ms after it.
      const ats = heard.map((event) => (event.type === 'ready' ? event.at : undefined));
      expect(ats[0]).toBeUndefined();
      expect((ats[2] ?? 0) - (ats[1] ?? 0)).toBe(1);
      const db = new Database(path);
      try {
        expect(db.prepare("select count(*) from events where type = 'batch'").pluck().get()).toBe(1);
      } finally {
        db.close();
      }
    } finally {
      stop();
      await store.close();
    }
  }, 30_000);

  it('still hears other processes by polling when the doorbell is off on either side', async () => {
    const store = await SqliteExecutionLog.open({ path, pollIntervalMs: [5, 50], watch: false });
    const heard: StoreEvent[] = [];
    const stop = store.subscribe((event: StoreEvent) => heard.push(event));
    try {
      await createElsewhere('polled-1', 'on');
      await createElsewhere('polled-2', 'off');
      const deadline = Date.now() + 5000;
      while (heard.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(heard).toEqual([
        { type: 'ready', queue: 'rung', at: undefined },
        { type: 'ready', queue: 'rung', at: undefined },
      ]);
    } finally {
      stop();
      await store.close();
    }
  }, 30_000);
});
