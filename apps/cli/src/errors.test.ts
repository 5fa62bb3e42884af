// Every failure is one line on stderr, a non-zero exit code, nothing on
// stdout, and no stack trace unless --verbose.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, ergon, FIXTURE, tempDir } from './testing/cli.js';

let dir = '';
let store = '';
let remove = () => {};

beforeAll(async () => {
  const tmp = tempDir();
  dir = tmp.dir;
  remove = tmp.remove;
  store = `sqlite:${join(dir, 'ergon.db')}`;
  // Creates the store, with one flow (no worker: it stays pending).
  const run = await ergon([
    '--store',
    store,
    'schedule',
    FIXTURE,
    'double',
    '--input',
    '{"n":1}',
    '--id',
    'known',
  ]);
  expect(run.code, run.stderr).toBe(0);
});
afterAll(() => remove());

/** Asserts the failure shape and returns the one line. */
function oneLineFailure(run: CliRun, exitCode: number): string {
  expect(run.code, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(exitCode);
  expect(run.stdout).toBe('');
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  expect(lines, run.stderr).toHaveLength(1);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

describe('errors', () => {
  it('unknown flow id', async () => {
    for (const args of [
      ['flows', 'show', 'nope'],
      ['signal', 'nope', 'go'],
      ['cancel', 'nope'],
      ['retry', 'nope'],
      ['flows', 'wait', 'nope'],
    ]) {
      const line = oneLineFailure(await ergon(['--store', store, '--json', ...args]), 1);
      expect(line).toBe(
        'error: flow "nope" not found: check the id, or whether it was purged [FLOW_NOT_FOUND]',
      );
    }
  });

  it('invalid JSON payload or input', async () => {
    const payload = oneLineFailure(
      await ergon(['--store', store, 'signal', 'known', 'go', '--payload', '{by:1}']),
      2,
    );
    expect(payload).toMatch(/^error: invalid JSON in --payload \(\{by:1\}\): /);
    const input = oneLineFailure(
      await ergon(['--store', store, 'schedule', FIXTURE, 'double', '--input', '[1,', '--id', 'x']),
      2,
    );
    expect(input).toMatch(/^error: invalid JSON in --input /);
  });

  it('missing database file: read and act commands never create it', async () => {
    const missing = join(dir, 'missing.db');
    for (const args of [
      ['flows', 'list'],
      ['flows', 'show', 'x'],
      ['flows', 'wait', 'x'],
      ['signal', 'x', 'go'],
      ['cancel', 'x'],
      ['retry', 'x'],
      ['purge', '--older-than', '7d'],
    ]) {
      const line = oneLineFailure(await ergon(['--store', `sqlite:${missing}`, ...args]), 1);
      expect(line).toBe(`error: no Ergon database at ${missing}`);
    }
    expect(existsSync(missing)).toBe(false);
    // The default store is ./ergon.db in the working directory.
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const line = oneLineFailure(await ergon(['flows', 'list'], { cwd: empty }), 1);
    expect(line).toBe(
      'error: no Ergon database at ./ergon.db (choose one with --store sqlite:PATH or ERGON_STORE)',
    );
    expect(readdirSync(empty)).toEqual([]);
  });

  it('a file that is not an Ergon database', async () => {
    const foreign = join(dir, 'notes.db');
    writeFileSync(foreign, 'just some text, not SQLite\n');
    for (const args of [
      ['flows', 'list'],
      ['schedule', FIXTURE, 'double'],
    ]) {
      const line = oneLineFailure(await ergon(['--store', `sqlite:${foreign}`, ...args]), 1);
      expect(line).toMatch(
        /^error: .*notes\.db is not an Ergon store: it is not a SQLite database\. .*\[STORE_FOREIGN\]$/,
      );
    }
    expect(readFileSync(foreign, 'utf8')).toBe('just some text, not SQLite\n');
  });

  it('unreachable Redis fails within seconds', async () => {
    const run = await ergon(['--store', 'redis://127.0.0.1:1', 'flows', 'list'], { timeoutMs: 15_000 });
    const line = oneLineFailure(run, 1);
    expect(line).toMatch(/^error: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*\[STORE_UNAVAILABLE\]$/);
    expect(run.ms).toBeLessThan(8000);
  });

  it('command-line mistakes exit 2', async () => {
    expect(oneLineFailure(await ergon(['--store', store, 'flows', 'lst']), 2)).toMatch(
      /^error: unknown command 'lst'/,
    );
    expect(oneLineFailure(await ergon(['--store', store, 'flows', 'list', '--limit', '0']), 2)).toMatch(
      /--limit <n>.*whole number ≥ 1/,
    );
    expect(oneLineFailure(await ergon(['--store', store, 'purge', '--older-than', 'soon']), 2)).toMatch(
      /--older-than <duration>.*expected a duration/,
    );
    expect(oneLineFailure(await ergon(['--store', store, 'flows', 'list', '--status', 'done']), 2)).toMatch(
      /unknown status 'done'/,
    );
    expect(oneLineFailure(await ergon(['--store', store, 'flows', 'show', 'bad id']), 2)).toMatch(
      /\[INVALID_ID\]$/,
    );
  });

  it('module problems', async () => {
    const line = oneLineFailure(await ergon(['--store', store, 'schedule', 'nowhere.js', 'double']), 1);
    expect(line).toMatch(/^error: cannot load flows: no file nowhere\.js/);
    const unknown = oneLineFailure(await ergon(['--store', store, 'schedule', FIXTURE, 'triple']), 1);
    expect(unknown).toBe(
      `error: ${FIXTURE} has no flow type 'triple': it exports 'greet', 'always-fails', 'await-approval', 'double'`,
    );
  });

  it('--verbose adds the stack', async () => {
    const run = await ergon(['--store', store, '--verbose', 'flows', 'show', 'nope']);
    expect(run.code).toBe(1);
    const [first, ...rest] = run.stderr.split('\n');
    expect(first).toMatch(/FLOW_NOT_FOUND/);
    expect(rest.join('\n')).toMatch(/^\s+at /m);
  });
});
