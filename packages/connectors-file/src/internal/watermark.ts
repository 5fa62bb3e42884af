/**
 * The watermark: a hint that every line up to `line` is finished, with the
 * byte offset right after it, so a restart skips them without a look at their
 * markers. Done markers are permanent, so any value ever written stays true;
 * a race between two writers can only lose progress on the hint, never
 * correctness.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode, writeAtomic } from './fs-utils.js';
import type { ReadPosition } from './line-reader.js';

const FILE = 'watermark.json';

/** Reads the watermark; the start of the file when there is none or it is unreadable. */
export async function readWatermark(dir: string): Promise<ReadPosition> {
  try {
    const value = JSON.parse(await readFile(join(dir, FILE), 'utf8')) as Partial<ReadPosition>;
    if (Number.isSafeInteger(value.line) && Number.isSafeInteger(value.offset)) {
      return { line: Math.max(0, value.line as number), offset: Math.max(0, value.offset as number) };
    }
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT' && !(error instanceof SyntaxError)) throw error;
  }
  return { line: 0, offset: 0 };
}

/** Writes the watermark atomically. */
export async function writeWatermark(dir: string, position: ReadPosition, fsync: boolean): Promise<void> {
  await writeAtomic(join(dir, FILE), `${JSON.stringify(position)}\n`, fsync);
}
