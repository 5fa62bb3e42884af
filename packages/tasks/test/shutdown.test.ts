// SIGTERM to a running task process, in both models: fetching stops,
// in-flight transactions finish (or, past the deadline, are nacked), and no
// line of the source is lost.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  configIn,
  countByLine,
  exited,
  ledger,
  readSummary,
  spawnRunner,
  tempDirs,
  waitForLedger,
  writeSource,
} from './support/processes.js';

const temp = tempDirs();
const LINES = 24;

async function claimFiles(source: string): Promise<string[]> {
  const shard = join(`${source}.ergon`, 'lines', '0');
  return (await readdir(shard)).filter((f) => f.endsWith('.claim'));
}

describe.each(['async', 'threaded'] as const)('SIGTERM, %s model', (model) => {
  it('drains: in-flight transactions finish and are acked; a restart does the rest; none lost or doubled', async () => {
    const dir = await temp();
    const config = configIn(dir, { model, delayMs: 300, concurrency: 2, shutdownTimeout: '10s' });
    await writeSource(config.source, LINES);
    const child = spawnRunner(config);
    await waitForLedger(config.ledger, (e) => e.filter((x) => x.event === 'process-start').length >= 3);
    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    expect(await readSummary(config)).toMatchObject({ reason: 'stopped', aborted: 0 });
    const first = await ledger(config.ledger);
    const started = countByLine(first, 'process-start');
    const succeeded = countByLine(first, 'success');
    expect([...succeeded.keys()].sort()).toEqual([...started.keys()].sort()); // every started one finished
    expect(started.size).toBeLessThan(LINES);
    expect(await claimFiles(config.source)).toEqual([]); // nothing left claimed

    expect(await exited(spawnRunner({ ...config, delayMs: 10 }))).toEqual({ code: 0, signal: null });
    const done = countByLine(await ledger(config.ledger), 'success');
    expect([...done.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: LINES }, (_, i) => i + 1));
    expect([...done.values()].every((n) => n === 1)).toBe(true);
  });

  it('past the shutdown deadline in-flight work is stopped and nacked, then redelivered', async () => {
    const dir = await temp();
    const config = configIn(dir, { model, delayMs: 20_000, concurrency: 2, shutdownTimeout: '200ms' });
    await writeSource(config.source, 4);
    const child = spawnRunner(config);
    await waitForLedger(config.ledger, (e) => e.filter((x) => x.event === 'process-start').length >= 2);
    const stoppedAt = Date.now();
    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    expect(await readSummary(config)).toMatchObject({ reason: 'stopped', aborted: 2, succeeded: 0 });
    expect(countByLine(await ledger(config.ledger), 'success').size).toBe(0);
    expect(await claimFiles(config.source)).toEqual([]);

    const quick = { ...config, delayMs: 0 };
    expect(await exited(spawnRunner(quick))).toEqual({ code: 0, signal: null });
    const done = countByLine(await ledger(config.ledger), 'success');
    expect([...done.keys()].sort()).toEqual([1, 2, 3, 4]);
  });
});
