/**
 * Who holds a claim, and whether that holder is still alive.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { errnoCode } from './fs-utils.js';

/** The identity written into every claim file. */
export interface Owner {
  /** Unique per service instance: `<host>:<pid>:<random>`. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
}

/** A fresh owner identity for this process and service instance. */
export function createOwner(): Owner {
  const host = hostname();
  return Object.freeze({ id: `${host}:${process.pid}:${randomUUID().slice(0, 8)}`, host, pid: process.pid });
}

/**
 * Whether a process of this host is alive. `kill(pid, 0)` sends nothing; it
 * fails with `ESRCH` when no such process exists (`EPERM` means it exists).
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

/** Reads the owner fields out of claim-file text; undefined for a torn or foreign file. */
export function parseOwner(text: string): Owner | undefined {
  try {
    const value = JSON.parse(text) as Partial<Owner>;
    if (typeof value.id === 'string' && typeof value.host === 'string' && typeof value.pid === 'number') {
      return { id: value.id, host: value.host, pid: value.pid };
    }
  } catch {
    // A claim file is written right after its exclusive create; a crash in between leaves it empty.
  }
  return undefined;
}
