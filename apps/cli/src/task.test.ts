// `ergon task run` and `ergon task process`, as subprocesses, on the test
// tasks of dist/fixtures/test-tasks.js over a JSON-lines file per test.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, CLI_DIR, ergon, failureLines, json, TASKS_FIXTURE, tempDir } from './testing/cli.js';

const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});

/** A fresh source file holding `lines`, and the environment the fixture reads. */
function workspace(lines: readonly object[]) {
  const tmp = tempDir('ergon-cli-task-');
  removers.push(tmp.remove);
  const source = join(tmp.dir, 'in.jsonl');
  const ledger = join(tmp.dir, 'ledger.txt');
  writeFileSync(source, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  const env = { ERGON_TEST_SOURCE: source, ERGON_TEST_LEDGER: ledger };
  const task = (...args: string[]) => ergon(['task', ...args], { env });
  const handled = () =>
    existsSync(ledger)
      ? readFileSync(ledger, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(' ')[0])
      : [];
  return { dir: tmp.dir, source, env, task, handled };
}

const numbers = (count: number) => Array.from({ length: count }, (_, i) => ({ id: `tx-${i + 1}`, n: i + 1 }));

describe('task run', () => {
  it('drains the source, dead-letters the failures and prints a summary', async () => {
    const w = workspace([...numbers(5), { id: 'bad', n: -1 }]);
    const run = await w.task('run', TASKS_FIXTURE, '--export', 'doubler');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/task doubler drained: 6 processed \(5 succeeded, 1 failed, 0 requeued\)/);
    expect(run.stderr).toMatch(/warning: .*transaction bad failed/);
    expect(w.handled().sort()).toEqual(
      numbers(5)
        .map((t) => t.id)
        .sort(),
    );
    const dead = readFileSync(`${w.source}.dead-letter.jsonl`, 'utf8');
    expect(dead).toContain('"id":"bad"');
    // Acked lines are done: a second run finds nothing to do.
    const again = await w.task('run', TASKS_FIXTURE, '--export', 'doubler');
    expect(again.stdout).toMatch(/0 processed/);
  });

  it('--json streams one outcome per transaction and a summary', async () => {
    const w = workspace([...numbers(3), { id: 'bad', n: -5 }]);
    const run = await w.task('run', TASKS_FIXTURE, '--export', 'doubler', '--json');
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ event: 'started', task: 'doubler', kind: 'consumer' });
    const outcomes = events.filter((e) => e.event === 'outcome');
    expect(outcomes.map((o) => [o.transactionId, o.status, o.settlement]).sort()).toEqual([
      ['bad', 'failed', 'dead-letter'],
      ['tx-1', 'succeeded', 'ack'],
      ['tx-2', 'succeeded', 'ack'],
      ['tx-3', 'succeeded', 'ack'],
    ]);
    expect(outcomes.find((o) => o.transactionId === 'bad')?.error).toMatchObject({
      name: 'NonRetryableError',
      message: 'negative: -5',
    });
    expect(events.at(-1)).toMatchObject({ event: 'summary', reason: 'drained', processed: 4, failed: 1 });
  });

  it('--workers runs a pool of processes that share the file', async () => {
    const w = workspace(numbers(12).map((t) => ({ ...t, slow: 600 }))); // slow enough that a late-starting second process still finds lines
    const run = await w.task('run', TASKS_FIXTURE, '--export', 'doubler', '--workers', '2');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/12 processed \(12 succeeded/);
    expect(run.stdout.match(/^ {2}process \d \(pid \d+\): \d+ processed, exit 0$/gm)).toHaveLength(2);
    // Each line exactly once, by more than one process.
    const lines = readFileSync(join(w.dir, 'ledger.txt'), 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0]).sort()).toEqual(
      numbers(12)
        .map((t) => t.id)
        .sort(),
    );
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBe(2);
  });

  it('stops on SIGTERM after the transactions in flight finish', async () => {
    const w = workspace(numbers(8).map((t) => ({ ...t, slow: 1500 })));
    const child = spawn(process.execPath, [BIN, 'task', 'run', TASKS_FIXTURE, '--export', 'doubler'], {
      cwd: CLI_DIR,
      env: { ...process.env, ...w.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const code = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // Stopped once the first 4 are in flight (a fixed wait after the start line was not always
    // enough on a loaded machine: none had been fetched yet, 0 processed).
    const started = `${w.dir}/ledger.txt.started`;
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (existsSync(started) && readFileSync(started, 'utf8').split('\n').filter(Boolean).length >= 4) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    child.kill('SIGTERM');
    expect(await code, err).toBe(0);
    // The first 4 (the concurrency) were in flight and finished; the rest were never started.
    expect(out).toMatch(/task doubler stopped: 4 processed \(4 succeeded, 0 failed, 0 requeued\)/);
    expect(w.handled()).toHaveLength(4);
  }, 20_000);
});

describe('task process', () => {
  it('processes a payload, without touching the source', async () => {
    const w = workspace(numbers(1));
    const run = await w.task(
      'process',
      TASKS_FIXTURE,
      '--export',
      'doubler',
      '--payload',
      '{"n":21}',
      '--id',
      'cli-1',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^transaction cli-1: succeeded in .* \(process ×1\)\nresult: 42\n$/);
    expect(w.handled()).toEqual(['cli-1']);
    // The source line is still there to be consumed.
    const drained = await w.task('run', TASKS_FIXTURE, '--export', 'doubler');
    expect(drained.stdout).toMatch(/1 processed/);
  });

  it('processes a transaction of the source again by id, done or not, as JSON', async () => {
    const w = workspace([...numbers(2), { id: 'bad', n: -3 }]);
    await w.task('run', TASKS_FIXTURE, '--export', 'doubler');
    const run = await w.task('process', TASKS_FIXTURE, '--export', 'doubler', '--id', 'tx-2', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({
      transactionId: 'tx-2',
      status: 'succeeded',
      result: 4,
      settlement: 'none',
      attempts: { process: 1 },
    });
    expect(w.handled().filter((id) => id === 'tx-2')).toHaveLength(2);

    const failed = await w.task('process', TASKS_FIXTURE, '--export', 'doubler', '--id', 'bad');
    expect(failed.code).toBe(3);
    expect(failed.stdout).toMatch(
      /transaction bad: failed at process .*\nerror: NonRetryableError \[NON_RETRYABLE\]: negative: -3/,
    );
  });

  it('runs a producer item through prepare and dispatch', async () => {
    const w = workspace([]);
    const run = await w.task('process', TASKS_FIXTURE, '--export', 'feeder', '--payload', '{"n":7}');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/succeeded/);
    expect(readFileSync(w.source, 'utf8')).toMatch(/"n":7/);
  });
});

describe('task errors: one line, no stack, a non-zero exit', () => {
  const cases: [string, string[], number, RegExp][] = [
    [
      'invalid JSON payload',
      ['--export', 'doubler', '--payload', '{n:1}'],
      2,
      /^error: invalid JSON in --payload/,
    ],
    [
      'unknown transaction id',
      ['--export', 'doubler', '--id', 'nope'],
      1,
      /^error: no transaction 'nope' in connector 'input' of task 'doubler'$/,
    ],
    ['no transaction given', ['--export', 'doubler'], 2, /^error: give the transaction: --payload/],
    [
      'ambiguous module',
      ['--payload', '{}'],
      1,
      /exports several tasks \('doubler', 'feeder'\): choose one with --export$/,
    ],
    [
      'unknown export',
      ['--export', 'nope', '--payload', '{}'],
      1,
      /has no task export 'nope': its tasks are 'doubler', 'feeder'$/,
    ],
    [
      'producer looked up by id',
      ['--export', 'feeder', '--id', 'x'],
      2,
      /is a producer: give the item to produce with --payload/,
    ],
    [
      'invalid transaction id',
      ['--export', 'doubler', '--payload', '{}', '--id', 'bad id!'],
      2,
      /\[INVALID_ID\]$/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, code, line) => {
    const w = workspace(numbers(1));
    const run = await w.task('process', TASKS_FIXTURE, ...args);
    expect(run.code, run.stderr).toBe(code);
    const lines = failureLines(run);
    expect(lines, run.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(line);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a missing module', async () => {
    const w = workspace([]);
    const run = await w.task('run', 'no/such/tasks.js');
    expect(run.code).toBe(1);
    expect(failureLines(run)).toEqual([
      expect.stringMatching(/^error: cannot load a task: no file no\/such\/tasks.js/),
    ]);
  });
});
