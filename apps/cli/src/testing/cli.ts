// Helpers for the CLI's suites: run the built `ergon` binary as a
// subprocess, start a worker, make temporary stores, run the demo.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package directory (apps/cli). */
export const CLI_DIR = fileURLToPath(new URL('../..', import.meta.url));
/** The built executable. */
export const BIN = join(CLI_DIR, 'dist', 'bin.js');
/** The built test flows module. */
export const FIXTURE = join(CLI_DIR, 'dist', 'fixtures', 'test-flows.js');
/** The built test tasks module. */
export const TASKS_FIXTURE = join(CLI_DIR, 'dist', 'fixtures', 'test-tasks.js');
/** The built demo, a workspace sibling (used only through its dist). */
export const DEMO_DIST = join(CLI_DIR, '..', 'demo', 'dist');

/** What one run of the CLI did. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

// The environment must not choose the store behind a test's back.
const baseEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.ERGON_STORE;
  return env;
};

/** Runs `node dist/bin.js ...args` and resolves when it exits (never rejects on a non-zero exit). */
export function ergon(
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: options.cwd ?? CLI_DIR,
        env: { ...baseEnv(), ...options.env },
        timeout: options.timeoutMs ?? 30_000,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/** Parses a run's stdout as JSON, failing with the run's output when it is not. */
export function json<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix = 'ergon-cli-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A running `ergon worker`. */
export interface RunningWorker {
  readonly child: ChildProcess;
  /** Everything it wrote to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Sends `signal` and resolves with the exit code and how long it took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

/** Starts `ergon --store <store> --json worker <module> ...extra` and resolves once it reports `started`. */
export function startWorker(store: string, extra: readonly string[] = []): Promise<RunningWorker> {
  const child = spawn(process.execPath, [BIN, '--store', store, '--json', 'worker', FIXTURE, ...extra], {
    cwd: CLI_DIR,
    env: baseEnv(),
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
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const worker: RunningWorker = {
    child,
    stdout: () => out,
    stderr: () => err,
    stop: async (signal = 'SIGTERM') => {
      const started = Date.now();
      child.kill(signal);
      const code = await exited;
      return { code, ms: Date.now() - started };
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${out}\n${err}`)), 15_000);
    const check = () => {
      if (!out.includes('"event":"started"')) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve(worker);
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before starting:\n${out}\n${err}`));
    });
  });
}

/**
 * Runs the built demo with `orders` orders in a private copy (its dist in a
 * temporary directory, resolving packages through this package's
 * node_modules), so it never touches apps/demo/.ergon, which the demo's own
 * test uses at the same time. Resolves with the SQLite file it wrote.
 */
export async function runDemo(dir: string, orders: number): Promise<string> {
  const home = join(dir, 'demo');
  cpSync(DEMO_DIST, join(home, 'dist'), { recursive: true });
  symlinkSync(join(CLI_DIR, 'node_modules'), join(home, 'node_modules'), 'dir');
  const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(home, 'dist', 'main.js')],
      {
        cwd: home,
        env: { ...baseEnv(), ERGON_DEMO_ORDERS: String(orders) },
        timeout: 60_000,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => resolve({ code: error ? 1 : 0, out: stdout + stderr }),
    );
  });
  if (run.code !== 0) throw new Error(`the demo failed:\n${run.out}`);
  return join(home, '.ergon', 'demo.db');
}

/** Polls `check` every 50 ms until it returns a value other than undefined (or times out). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Asserts the shape of a failure: one line on stderr, nothing on stdout, no stack. */
export function failureLines(run: CliRun): string[] {
  return run.stderr.split('\n').filter((line) => line.trim() !== '');
}
