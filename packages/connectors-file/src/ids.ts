/**
 * Stable transaction ids for lines: the same file and line give the same id
 * in every process and after every restart, so a redelivered line is the same
 * transaction (and, with the durable bridge, the same flow).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';

/**
 * The id prefix of a file: its base name made id-safe, plus a short hash of
 * its absolute path (two `orders.jsonl` in different folders differ).
 */
export function filePrefix(absolutePath: string): string {
  const name =
    basename(absolutePath)
      .replace(/[^A-Za-z0-9_.-]/g, '_')
      .slice(0, 64) || 'file';
  const hash = createHash('sha256').update(absolutePath).digest('hex').slice(0, 8);
  return `${name}-${hash}`;
}

/** The id of line `line` (1-based) of the file with prefix `prefix`: `<prefix>:<line>`. */
export function lineId(prefix: string, line: number): string {
  return `${prefix}:${line}`;
}
