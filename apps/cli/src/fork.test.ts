// `ergon fork` (with and without --yes) and `ergon flows export/import`, run as the real binary
// on SQLite files; the fork then runs under a real `ergon worker`.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CLI_DIR, ergon, eventually, json, tempDir } from './testing/cli.js';
import { recordShipments } from './testing/record.js';

const V1 = join(CLI_DIR, 'dist', 'fixtures', 'replay-v1.js');

let tmp: { dir: string; remove: () => void };
let file = '';
let store = '';
const cli = (...args: string[]) => ergon(['--store', store, ...args]);

beforeAll(async () => {
  tmp = tempDir('ergon-fork-');
  file = join(tmp.dir, 'flows.db');
  store = `sqlite:${file}`;
  const log = await SqliteExecutionLog.open({ path: file });
  try {
    await recordShipments(log, { count: 6, concurrency: 4 });
  } finally {
    await log.close();
  }
}, 60_000);

afterAll(() => tmp?.remove());

interface ShowJson {
  status: string;
  result?: unknown;
  history: { position: number; key: string }[];
}

describe('ergon fork', { timeout: 90_000 }, () => {
  it('prints the plan as a diff and, without --yes and without a terminal, refuses to fork', async () => {
    const run = await cli('fork', 'ship-2', '--at', '2', '--id', 'fork-refused');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe(
      [
        'fork of ship-2 (shipment) at position 2 → new flow fork-refused',
        '  0 pick#0  kept',
        '  1 pack#0  kept',
        '~ 2 label#0  runs again',
        '~ 3 total#0  runs again',
        '',
      ].join('\n'),
    );
    expect(run.stderr).toMatch(/not forking: stdin is not a terminal.*pass --yes/);
    const show = await cli('flows', 'show', 'fork-refused');
    expect(show.code).toBe(1);
    expect(show.stderr).toContain('FLOW_NOT_FOUND');
  });

  it('with --yes forks, and a worker re-runs exactly the planned steps with the edited result', async () => {
    const run = await cli(
      'fork',
      'ship-4',
      '--at',
      'label',
      '--result',
      '1="PACKED"',
      '--id',
      'fork-a',
      '--yes',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('- 1 pack#0 "pack"\n+ 1 pack#0 "PACKED"  (edited, fed to what follows)');
    expect(run.stdout).toContain('forked ship-4 as fork-a: a worker of shipment runs it from position 2');
    const ledger = join(tmp.dir, 'ledger.txt');
    const worker = spawnWorker(ledger);
    try {
      const done = await eventually(async () => {
        const info = json<ShowJson>(await cli('--json', 'flows', 'show', 'fork-a'));
        return info.status === 'completed' ? info : undefined;
      }, 20_000);
      expect(done.result).toEqual({ n: 4, total: 40 });
      expect(done.history.map((e) => e.key)).toEqual(['pick#0', 'pack#0', 'label#0', 'total#0']);
      // Only the re-run positions ran: 'label' (and 'total', which notes nothing).
      expect(readFileSync(ledger, 'utf8')).toBe('label\n');
    } finally {
      await stop(worker);
    }
    const kept = json<ShowJson & { history: { result?: unknown }[] }>(
      await cli('--json', 'flows', 'show', 'fork-a'),
    );
    expect(kept.history[1]?.result).toBe('PACKED');
  });

  it('answers --json with the plan, and refuses an unknown flow and a position out of range', async () => {
    const run = await cli(
      '--json',
      'fork',
      'ship-1',
      '--at',
      '0',
      '--input',
      '{"n":7}',
      '--yes',
      '--id',
      'fork-j',
    );
    expect(run.code, run.stderr).toBe(0);
    const out = json<{ created: boolean; plan: { rerun: unknown[]; changes: unknown[] } }>(run);
    expect(out.created).toBe(true);
    expect(out.plan.rerun).toHaveLength(3);
    expect(out.plan.changes).toEqual([{ target: 'input', before: { n: 1 }, after: { n: 7 } }]);
    const unknown = await cli('fork', 'no-such-flow', '--at', '0', '--yes');
    expect(unknown.code, unknown.stdout + unknown.stderr).toBe(1);
    expect(unknown.stderr).toMatch(/flow "no-such-flow" not found.*\[FLOW_NOT_FOUND\]/);
    const range = await cli('fork', 'ship-1', '--at', '9', '--yes');
    expect(range.code, range.stdout + range.stderr).toBe(2);
    expect(range.stderr).toMatch(
      /position 9 is out of range for flow ship-1: use 0 to 2.*\[INVALID_ARGUMENT\]/,
    );
    const key = await cli('fork', 'ship-1', '--at', 'nope', '--yes');
    expect(key.code, key.stdout + key.stderr).toBe(2);
    expect(key.stderr).toMatch(/has no operation "nope"/);
    const bad = await cli('fork', 'ship-1', '--at', '2', '--result', 'oops', '--yes');
    expect(bad.code, bad.stdout + bad.stderr).toBe(2);
  });
});

/** Runs the binary on a pseudo-terminal (util-linux `script`), typing `typed` on it. */
function onTerminal(
  args: readonly string[],
  typed: string,
): Promise<{ code: number | null; output: string }> {
  const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.ERGON_STORE;
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: CLI_DIR, env });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      // Answer once the question is on the screen.
      if (output.includes('fork? [y/N]') && typed) {
        child.stdin.write(typed);
        typed = '';
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.replaceAll('\r', '') });
    });
  });
}

describe('ergon fork on a terminal', { timeout: 90_000 }, () => {
  it('asks before forking: yes forks, anything else does not', async () => {
    const no = await onTerminal(
      ['--store', store, 'fork', 'ship-3', '--at', '1', '--id', 'fork-tty-no'],
      'n\n',
    );
    expect(no.code, no.output).toBe(0);
    expect(no.output).toContain('~ 1 label#0  runs again');
    expect(no.output).toContain('not forked');
    expect((await cli('flows', 'show', 'fork-tty-no')).code).toBe(1);
    const yes = await onTerminal(
      ['--store', store, 'fork', 'ship-3', '--at', '1', '--id', 'fork-tty'],
      'y\n',
    );
    expect(yes.code, yes.output).toBe(0);
    expect(yes.output).toContain('forked ship-3 as fork-tty');
    expect((await cli('flows', 'show', 'fork-tty')).code).toBe(0);
  });
});

describe('ergon flows export and import', { timeout: 90_000 }, () => {
  it('moves flows to another store, where they read back identically', async () => {
    const exported = await cli('flows', 'export', '--type', 'shipment');
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.trim().split('\n');
    // The six recorded shipments and the forks made above (finished and pending).
    expect(lines.length).toBeGreaterThanOrEqual(8);
    const path = join(tmp.dir, 'shipments.jsonl');
    writeFileSync(path, exported.stdout);
    const target = `sqlite:${join(tmp.dir, 'other.db')}`;
    const imported = await ergon(['--store', target, 'flows', 'import', path]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toBe(`imported ${lines.length} flows\n`);
    const back = await ergon(['--store', target, 'flows', 'export', '--type', 'shipment']);
    expect(
      back.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .sort(byId),
    ).toEqual(lines.map((l) => JSON.parse(l)).sort(byId));
    const again = await ergon(['--store', target, '--json', 'flows', 'import', path]);
    expect(json<{ imported: string[]; skipped: string[] }>(again).skipped).toHaveLength(lines.length);
  });

  it('refuses a file that is not an export, naming the line, and a missing file', async () => {
    const path = join(tmp.dir, 'broken.jsonl');
    writeFileSync(path, '{"format":"ergon-flow/1","flow":{"id":"x"},"history":[]}\n');
    const run = await cli('flows', 'import', path);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /line 1 of .*broken\.jsonl is not an exported flow: no flow with an id and a type/,
    );
    const missing = await cli('flows', 'import', join(tmp.dir, 'absent.jsonl'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*absent\.jsonl: no such file/);
    expect(existsSync(join(tmp.dir, 'absent.jsonl'))).toBe(false);
  });
});

function byId(a: { flow: { id: string } }, b: { flow: { id: string } }): number {
  return a.flow.id < b.flow.id ? -1 : 1;
}

function spawnWorker(ledger: string): ChildProcess {
  const env = { ...process.env, ERGON_TEST_LEDGER: ledger };
  delete env.ERGON_STORE;
  return spawn(process.execPath, [BIN, '--store', store, 'worker', V1, '--concurrency', '2'], {
    cwd: CLI_DIR,
    env,
    stdio: 'ignore',
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
