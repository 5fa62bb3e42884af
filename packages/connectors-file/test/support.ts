import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** A fresh temporary directory per test, removed afterwards. */
export function tempDirs(): () => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ergon-file-'));
    made.push(dir);
    return dir;
  };
}

/** Writes one JSON line per value (strings are written raw). */
export async function writeLines(path: string, values: readonly unknown[]): Promise<void> {
  const text = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\n');
  await writeFile(path, `${text}\n`);
}

/** Reads a JSON-lines file into values; a missing file is empty. */
export async function readJsonLines<T = unknown>(path: string): Promise<T[]> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}
