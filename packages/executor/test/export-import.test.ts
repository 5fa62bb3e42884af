import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExecutionLog, InMemoryExecutionLog } from '@ergon/core';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Client,
  type FlowExport,
  flow,
  importFlows,
  parseExport,
  readFlows,
  toExportLine,
} from '../src/index.js';
import { STORE_KIND } from './stores.js';
import { harness, until } from './support.js';

/** Everything a store holds of its flows, in id order; signals without their store-assigned seq. */
async function contents(store: ExecutionLog) {
  const out: unknown[] = [];
  for await (const { flow: f, history, signals } of readFlows(store)) {
    out.push({ flow: f, history, signals: signals.map(({ seq: _seq, ...s }) => s) });
  }
  return out.sort((a, b) => ((a as FlowExport).flow.id < (b as FlowExport).flow.id ? -1 : 1));
}

describe('flows export and import', () => {
  const h = harness();
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  /** A store of another kind than the one under test. */
  async function otherStore(): Promise<ExecutionLog> {
    if (STORE_KIND === 'sqlite') return new InMemoryExecutionLog();
    const dir = mkdtempSync(join(tmpdir(), 'ergon-import-'));
    const store = await SqliteExecutionLog.open({ path: join(dir, 'import.db') });
    cleanups.push(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return store;
  }

  it('exports flows in every state as JSON lines, and another store reads them back identically', async () => {
    const child = flow('export-child', async (ctx, n: number) => ctx.run('double', () => n * 2));
    const parent = flow('export-parent', async (ctx, n: number) => {
      const doubled = await ctx.child(child, n);
      if (n === 3) throw new Error('three is refused');
      if (n === 4) await ctx.waitForSignal('approve');
      if (n === 5) await ctx.sleep('2h');
      return { doubled, at: await ctx.now(), id: await ctx.uuid() };
    });
    h.startWorker([parent, child]);
    for (let n = 1; n <= 6; n++) await h.client.schedule(parent, n, { flowId: `exp-${n}` });
    await h.client.schedule(parent, 7, { flowId: 'exp-pending', runAt: new Date(Date.now() + 86_400_000) });
    await until(
      async () =>
        (await h.client.list({ status: ['running'], limit: 1 })).flows.length === 0 &&
        (await h.store.getFlow('exp-4'))?.status === 'suspended' &&
        (await h.store.getFlow('exp-5'))?.status === 'suspended' &&
        (await h.store.getFlow('exp-6'))?.status === 'completed' &&
        // A parent woken by its child is pending, then running, then ended: wait for the ends too
        // (with only "nothing running", one woken between the check and the export read as running).
        (await h.store.getFlow('exp-1'))?.status === 'completed' &&
        (await h.store.getFlow('exp-2'))?.status === 'completed' &&
        (await h.store.getFlow('exp-3'))?.status === 'failed',
      30_000,
      'the flows to settle',
    );
    // A buffered signal nobody waits for yet.
    await h.client.signal('exp-pending', 'later', { note: 'buffered' });
    const original = await contents(h.store);
    const statuses = new Set(original.map((e) => (e as FlowExport).flow.status));
    expect([...statuses].sort()).toEqual(['completed', 'failed', 'pending', 'suspended']);

    const lines: string[] = [];
    for await (const entry of readFlows(h.store)) lines.push(toExportLine(entry));
    const text = `${lines.join('\n')}\n`;
    const target = await otherStore();
    const report = await importFlows(target, parseExport(text, 'flows.jsonl'));
    expect(report.imported).toHaveLength(original.length);
    expect(await contents(target)).toEqual(original);
    // Importing again writes nothing: every id exists.
    const again = await importFlows(target, parseExport(text));
    expect(again).toEqual({ imported: [], skipped: report.imported });
    expect(await contents(target)).toEqual(original);

    // The imported flows live on: the suspended one resumes in the other store when signalled.
    const there = new Client({ store: target });
    const worker = h.startWorker([parent, child], { store: target });
    await there.signal('exp-4', 'approve', true);
    expect(await there.handle('exp-4').result({ timeout: '20s' })).toMatchObject({ doubled: 8 });
    await worker.stop({ timeout: '1s' });
  });

  it('refuses a line that is not an exported flow with INVALID_ARGUMENT naming the line', () => {
    expect(() =>
      parseExport('{"format":"ergon-flow/1","flow":{"id":"a","type":"t"},"history":[]}\nnot json', 'x.jsonl'),
    ).toThrow(/line 2 of x\.jsonl/);
    expect(() => parseExport('{"format":"other"}')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
