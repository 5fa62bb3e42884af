// A history row whose stored result is garbage fails that one flow with a
// clear error; other flows carry on (issue: SQLite store, bad input).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, flow, Worker } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { eventually } from '@ergon/testing';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

describe('garbage in the SQLite history', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fails only the flow with the corrupt row, with CODEC_MALFORMED, and keeps the worker serving', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ergon-garbage-'));
    const path = join(dir, 'garbage.db');
    const store = await SqliteExecutionLog.open({ path });
    const client = new Client({ store });
    const twoPart = flow('two-part', async (ctx, n: number) => {
      const first = await ctx.run('first', () => ({ n }));
      await ctx.waitForSignal('continue');
      return first.n * 2;
    });
    const worker = new Worker({ store, flows: [twoPart], maxIdle: '20ms' }).start();
    try {
      const bad = await client.schedule(twoPart, 1, { flowId: 'bad-1' });
      const good = await client.schedule(twoPart, 2, { flowId: 'good-1' });
      await eventually(
        async () => (await bad.status()) === 'suspended' && (await good.status()) === 'suspended',
      );

      // Corrupt the recorded result of the first step, as a disk or a bad tool might.
      const raw = new Database(path);
      raw
        .prepare(
          "UPDATE history SET result = 'this is not what Ergon wrote' WHERE flow_id = ? AND position = 0",
        )
        .run('bad-1');
      raw.close();

      await bad.signal('continue');
      await good.signal('continue');
      await expect(bad.result({ timeout: '10s' })).rejects.toMatchObject({
        code: 'FLOW_FAILED',
        cause: { code: 'CODEC_MALFORMED' },
      });
      const error = (await bad.get()).error as Error;
      expect(error.message).toMatch(/could not be decoded.*corrupt or was not written by Ergon/);
      expect(await good.result({ timeout: '10s' })).toBe(4);
      const later = await client.schedule(twoPart, 5);
      await eventually(async () => (await later.status()) === 'suspended');
      await later.signal('continue');
      expect(await later.result({ timeout: '10s' })).toBe(10);
      expect(worker.running).toBe(true);
    } finally {
      await worker.stop();
      await store.close();
    }
  });
});
