/**
 * Small file-system helpers shared by the claim directory and the service.
 *
 * @module
 */
import type { Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { ErgonError, ErrorCode } from '@ergon/core';

/** The `code` of a Node system error, if any. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `stat`, or `undefined` when the file does not exist. */
export async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  return (await statOrUndefined(path)) !== undefined;
}

/** Removes a file; a missing file is not an error. */
export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
}

/**
 * Creates `path` with `text` only if it does not exist yet: the one atomic
 * "first writer wins" primitive every claim relies on. The text is written to
 * a private temporary sibling first and then hard-linked into place (`link`
 * fails when the target exists), so the file appears whole or not at all: a
 * process killed mid-way never leaves an empty claim that nobody can
 * attribute to a dead owner.
 *
 * @returns false when the file already existed.
 */
export async function createExclusive(path: string, text: string, fsync: boolean): Promise<boolean> {
  const temporary = temporarySibling(path);
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(text);
      if (fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temporary, path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlinkIfExists(temporary);
  }
}

/** A name next to `path` that no other writer uses. */
function temporarySibling(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * Replaces `path` atomically: writes a temporary sibling, then renames it over
 * the target, so readers see the old or the new content, never a torn one.
 */
export async function writeAtomic(path: string, text: string, fsync: boolean): Promise<void> {
  const temporary = temporarySibling(path);
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(text);
    if (fsync) await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlinkIfExists(temporary);
    throw error;
  }
}

/**
 * Turns a file-system failure into a `CONNECTOR_ERROR` naming the file and the
 * action, keeping the original as `cause`. Ergon errors pass through.
 */
export function toConnectorError(error: unknown, action: string, path: string): ErgonError {
  if (error instanceof ErgonError) return error;
  const code = errnoCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return new ErgonError(ErrorCode.CONNECTOR_ERROR, `json-lines file: ${action} ${path} failed: ${message}`, {
    cause: error,
    details: { path, action, ...(code === undefined ? {} : { errno: code }) },
  });
}
