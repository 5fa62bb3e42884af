import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

/** A fresh temporary directory per test, removed afterwards. */
export function tempDirs(): () => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ergon-tasks-'));
    made.push(dir);
    return dir;
  };
}

/** What the fixtures in `test/fixtures` read from `ERGON_TEST_CONFIG`. */
export interface FixtureConfig {
  source: string;
  ledger: string;
  summary: string;
  model?: 'async' | 'threaded';
  delayMs?: number;
  concurrency?: number;
  batchSize?: number;
  mode?: 'batch' | 'continuous';
  workers?: number;
  restarts?: number;
  shutdownTimeout?: string;
  durableDb?: string;
  blockLine?: number;
  marker?: string;
  barrier?: { dir: string; count: number };
}

/** A ledger entry written by the fixtures. */
export interface LedgerEntry {
  event: string;
  pid: number;
  line?: number;
  step?: string;
  message?: string;
}

const RUNNER = fileURLToPath(new URL('../fixtures/run.mjs', import.meta.url));

/** Starts `fixtures/run.mjs` (a task process) with `config`. */
export function spawnRunner(config: FixtureConfig): ChildProcess {
  return fork(RUNNER, [], {
    execArgv: [],
    env: { ...process.env, ERGON_TEST_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Waits for the child to exit; returns its exit code and signal. */
export async function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  return { code, signal };
}

/** Reads the ledger. */
export async function ledger(path: string): Promise<LedgerEntry[]> {
  if (!existsSync(path)) return [];
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LedgerEntry);
}

/** Polls the ledger until `check` holds. */
export async function waitForLedger(
  path: string,
  check: (entries: LedgerEntry[]) => boolean,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entries = await ledger(path);
    if (check(entries)) return entries;
    if (Date.now() > deadline)
      throw new Error(`ledger condition not met in ${timeoutMs} ms: ${JSON.stringify(entries.slice(-5))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Writes `{ n: line }` on lines 1..count. */
export async function writeSource(path: string, count: number): Promise<void> {
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ n: i + 1 }));
  await writeFile(path, `${lines.join('\n')}\n`);
}

/** Counts entries per line for one event. */
export function countByLine(entries: LedgerEntry[], event: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const e of entries)
    if (e.event === event && e.line !== undefined) counts.set(e.line, (counts.get(e.line) ?? 0) + 1);
  return counts;
}

/** A standard config in `dir`. */
export function configIn(dir: string, extra: Partial<FixtureConfig> = {}): FixtureConfig {
  return {
    source: join(dir, 'in.jsonl'),
    ledger: join(dir, 'ledger.jsonl'),
    summary: join(dir, 'summary.json'),
    marker: join(dir, 'blocked.marker'),
    ...extra,
  };
}

/** The run summary written by the runner fixture. */
export async function readSummary(config: FixtureConfig): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(config.summary, 'utf8')) as Record<string, unknown>;
}
