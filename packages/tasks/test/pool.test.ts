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
});
