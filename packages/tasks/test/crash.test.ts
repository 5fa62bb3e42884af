// SIGKILL in the middle of work, then a restart: the file connector
// redelivers what was not finished, and the durable bridge (on SQLite, shared
// by the processes) resumes each transaction's flow after its last finished
// step, so no finished step runs twice.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  configIn,
  countByLine,
  exited,
  type LedgerEntry,
  ledger,
  spawnRunner,
  tempDirs,
  waitForLedger,
  writeSource,
} from './support/processes.js';

const temp = tempDirs();

function effects(entries: LedgerEntry[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of entries) {
    if (e.event === 'step') counts.set(`${e.line}:${e.step}`, (counts.get(`${e.line}:${e.step}`) ?? 0) + 1);
  }
  return counts;
}

describe('crash and restart', () => {
  it('a consumer killed mid-file processes every line at least once after a restart', async () => {
    const dir = await temp();
    const config = configIn(dir, { delayMs: 60, concurrency: 3, batchSize: 3 });
    await writeSource(config.source, 30);
    const child = spawnRunner(config);
    await waitForLedger(config.ledger, (e) => e.filter((x) => x.event === 'success').length >= 8);
    child.kill('SIGKILL');
    expect((await exited(child)).signal).toBe('SIGKILL');
    const before = countByLine(await ledger(config.ledger), 'success');
    expect(before.size).toBeLessThan(30);
    expect(await exited(spawnRunner(config))).toEqual({ code: 0, signal: null });
    const after = countByLine(await ledger(config.ledger), 'success');
    expect([...after.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // Acked lines are never redelivered: only the (at most 3) lines in flight at the kill can run twice.
    const twice = [...after.values()].filter((n) => n > 1);
    expect(twice.length).toBeLessThanOrEqual(3);
  });

  describe('with the durable bridge on SQLite', () => {
    it('a transaction killed mid-flow is redelivered and resumes: finished steps do not run again', async () => {
      const dir = await temp();
      const config = configIn(dir, { durableDb: join(dir, 'ergon.db'), blockLine: 2, concurrency: 1 });
      await writeSource(config.source, 3);
      const child = spawnRunner(config);
      await waitForLedger(config.ledger, (e) => e.some((x) => x.event === 'blocked'));
      child.kill('SIGKILL');
      await exited(child);
      const firstPid = child.pid;
      expect(effects(await ledger(config.ledger))).toEqual(
        new Map([
          ['1:a', 1],
          ['1:b', 1],
          ['1:c', 1],
          ['2:a', 1],
        ]),
      );

      const restarted = spawnRunner(config);
      expect(await exited(restarted)).toEqual({ code: 0, signal: null });
      const entries = await ledger(config.ledger);
      // Line 2 was delivered again, to the new process...
      const starts = entries.filter((e) => e.event === 'process-start' && e.line === 2).map((e) => e.pid);
      expect(starts).toEqual([firstPid, restarted.pid]);
      // ...which ran only its unfinished steps: every step's effect happened exactly once.
      const counts = effects(entries);
      expect([...counts.keys()].sort()).toEqual([
        '1:a',
        '1:b',
        '1:c',
        '2:a',
        '2:b',
        '2:c',
        '3:a',
        '3:b',
        '3:c',
      ]);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(countByLine(entries, 'success')).toEqual(
        new Map([
          [1, 1],
          [2, 1],
          [3, 1],
        ]),
      );
    });

    it('killed mid-file and restarted, every line of the file has its effects exactly once', async () => {
      const dir = await temp();
      const config = configIn(dir, { durableDb: join(dir, 'ergon.db'), blockLine: 12, concurrency: 1 });
      await writeSource(config.source, 20);
      const child = spawnRunner(config);
      await waitForLedger(config.ledger, (e) => e.some((x) => x.event === 'blocked'));
      child.kill('SIGKILL');
      await exited(child);
      expect(await exited(spawnRunner(config))).toEqual({ code: 0, signal: null });
      const counts = effects(await ledger(config.ledger));
      expect(counts.size).toBe(20 * 3);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    });
  });
});
