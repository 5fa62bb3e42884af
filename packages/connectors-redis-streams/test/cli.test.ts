// The CLI's `task run` and `task process` drive a task on this connector
// unchanged: the built `ergon` binary, as a subprocess, on a stream of the test's own.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { adminClient, REDIS_URL, redisAvailable } from './support.js';

const BIN = join(
  dirname(createRequire(import.meta.url).resolve('@ergon/cli/package.json')),
  'dist',
  'bin.js',
);
const TASKS = fileURLToPath(new URL('./fixtures/cli-tasks.mjs', import.meta.url));

const admin = adminClient();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function workspace(entries: readonly { id: string; n: number }[]) {
  const stream = `ergon-test:rs-cli:${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
  const dir = await mkdtemp(join(tmpdir(), 'ergon-rs-cli-'));
  cleanups.push(
    () => admin.del(stream, `${stream}:dead-letter`),
    () => rm(dir, { recursive: true, force: true }),
  );
  for (const e of entries) await admin.xadd(stream, '*', 'id', e.id, 'payload', JSON.stringify({ n: e.n }));
  const ledger = join(dir, 'ledger.txt');
  const env = {
    ...process.env,
    ERGON_REDIS_URL: REDIS_URL,
    ERGON_TEST_STREAM: stream,
    ERGON_TEST_LEDGER: ledger,
  };
  // Killed before the test's own timeout, so no CLI outlives the test and its cleanup.
  const ergon = (...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { env, timeout: 25_000, encoding: 'utf8' },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
      );
    });
  const handled = () =>
    existsSync(ledger)
      ? readFileSync(ledger, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(' '))
      : [];
  return { stream, ergon, handled };
}

const numbers = (count: number) => Array.from({ length: count }, (_, i) => ({ id: `tx-${i + 1}`, n: i + 1 }));

describe.runIf(redisAvailable)('ergon task run / task process on a Redis stream', () => {
  it('task run drains the stream, dead-letters the failure, acks the rest', async () => {
    const w = await workspace([...numbers(5), { id: 'bad', n: -1 }]);
    const run = await w.ergon('task', 'run', TASKS, '--export', 'doubler');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/task doubler drained: 6 processed \(5 succeeded, 1 failed, 0 requeued\)/);
    expect(
      w
        .handled()
        .map(([id]) => id)
        .sort(),
    ).toEqual(
      numbers(5)
        .map((t) => t.id)
        .sort(),
    );
    const dead = await admin.xrange(`${w.stream}:dead-letter`, '-', '+');
    expect(dead).toHaveLength(1);
    expect(dead[0]?.[1].slice(0, 2)).toEqual(['id', 'bad']);
    expect((await admin.xpending(w.stream, 'ergon'))[0]).toBe(0);
    const again = await w.ergon('task', 'run', TASKS, '--export', 'doubler');
    expect(again.stdout).toMatch(/0 processed/);
  });

  it('task run --workers 2 shares the stream between two processes through the group', async () => {
    const w = await workspace(numbers(40));
    const run = await w.ergon('task', 'run', TASKS, '--export', 'doubler', '--workers', '2');
    expect(run.code, run.stderr).toBe(0);
    const handled = w.handled();
    expect(handled.map(([id]) => id).sort()).toEqual(
      numbers(40)
        .map((t) => t.id)
        .sort(),
    );
    expect((await admin.xpending(w.stream, 'ergon'))[0]).toBe(0);
  });

  it('task process --id finds one transaction in the stream and processes it again', async () => {
    const w = await workspace(numbers(3));
    const run = await w.ergon('task', 'process', TASKS, '--export', 'doubler', '--id', 'tx-2');
    expect(run.code, run.stderr).toBe(0);
    expect(w.handled().map(([id]) => id)).toEqual(['tx-2']);
  });
});
