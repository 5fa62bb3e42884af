// The process pool: `workers: 4` spreads the lines of one file over four
// processes, and the file connector's claims keep any line from being
// processed twice.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  configIn,
  exited,
  ledger,
  readSummary,
  spawnRunner,
  tempDirs,
  waitForLedger,
  writeSource,
} from './support/processes.js';

const temp = tempDirs();

describe('process pool', () => {
  it('workers: 4 spreads transactions over 4 processes with nothing processed twice', async () => {
    const dir = await temp();
    const config = configIn(dir, {
      workers: 4,
      delayMs: 25,
      concurrency: 2,
      batchSize: 2,
      barrier: { dir: join(dir, 'barrier'), count: 4 },
    });
    await writeSource(config.source, 160);
    const runner = spawnRunner(config);
    expect(await exited(runner)).toEqual({ code: 0, signal: null });
    const entries = (await ledger(config.ledger)).filter((e) => e.event === 'success');
    const lines = entries.map((e) => e.line).sort((a, b) => (a ?? 0) - (b ?? 0));
    expect(lines).toEqual(Array.from({ length: 160 }, (_, i) => i + 1));
    const pids = new Set(entries.map((e) => e.pid));
    expect(pids.size).toBe(4);
    expect(pids.has(runner.pid as number)).toBe(false);
    const summary = await readSummary(config);
    expect(summary).toMatchObject({ reason: 'drained', processed: 160, succeeded: 160 });
    expect(summary.workers).toHaveLength(4);
  });

  it('SIGTERM to the pool drains every worker; nothing is lost', async () => {
    const dir = await temp();
    const config = configIn(dir, { workers: 2, delayMs: 200, concurrency: 2, mode: 'continuous' });
    await writeSource(config.source, 40);
    const runner = spawnRunner(config);
    const deadline = Date.now() + 15_000;
    while ((await ledger(config.ledger)).filter((e) => e.event === 'process-start').length < 4) {
      if (Date.now() > deadline) throw new Error('pool did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    runner.kill('SIGTERM');
    expect(await exited(runner)).toEqual({ code: 0, signal: null });
    const entries = await ledger(config.ledger);
    const started = new Set(entries.filter((e) => e.event === 'process-start').map((e) => e.line));
    const finished = new Set(entries.filter((e) => e.event === 'success').map((e) => e.line));
    expect(finished).toEqual(started);
    expect(await readSummary(config)).toMatchObject({ reason: 'stopped', aborted: 0 });
  });

  it('replaces a worker process that was SIGKILLed; its lines go to the others at once, none is lost', async () => {
    const dir = await temp();
    const config = configIn(dir, { workers: 2, delayMs: 50, concurrency: 2, batchSize: 2 });
    await writeSource(config.source, 80);
    const runner = spawnRunner(config);
    const entries = await waitForLedger(config.ledger, (e) => new Set(e.map((x) => x.pid)).size === 2);
    const victim = entries[0]?.pid as number;
    process.kill(victim, 'SIGKILL');
    expect(await exited(runner)).toEqual({ code: 0, signal: null });
    const all = await ledger(config.ledger);
    const succeeded = all.filter((e) => e.event === 'success');
    // Every line succeeded; only a line in flight at the kill may have run twice.
    expect(new Set(succeeded.map((e) => e.line)).size).toBe(80);
    expect(succeeded.length - 80).toBeLessThanOrEqual(2);
    // A third process (the replacement) took part.
    expect(new Set(all.map((e) => e.pid)).size).toBe(3);
    const summary = await readSummary(config);
    expect(summary).toMatchObject({ reason: 'drained' });
    expect(summary.error).toBeUndefined();
    const workers = summary.workers as { restarts: number; signal: string | null }[];
    expect(workers.map((w) => w.restarts).sort()).toEqual([0, 1]);
    expect(workers.every((w) => w.signal === null)).toBe(true);
  });

  it('gives up on a slot after `restarts` replacements: the others go on, the summary names the dead process', async () => {
    const dir = await temp();
    const config = configIn(dir, {
      workers: 2,
      delayMs: 2000,
      concurrency: 1,
      restarts: 0,
      mode: 'continuous',
    });
    await writeSource(config.source, 10);
    const runner = spawnRunner(config);
    const entries = await waitForLedger(config.ledger, (e) => new Set(e.map((x) => x.pid)).size === 2);
    process.kill(entries[0]?.pid as number, 'SIGKILL');
    // The other process keeps going until the pool is stopped.
    await new Promise((r) => setTimeout(r, 300));
    runner.kill('SIGTERM');
    expect(await exited(runner)).toEqual({ code: 0, signal: null });
    const summary = await readSummary(config);
    expect(summary.reason).toBe('stopped');
    const workers = summary.workers as { restarts: number; signal: string | null }[];
    expect(workers.find((w) => w.signal === 'SIGKILL')).toMatchObject({ restarts: 0 });
    expect(summary.error).toMatch(/ended without a summary \(exit code null, signal SIGKILL\)/);
  });
});
