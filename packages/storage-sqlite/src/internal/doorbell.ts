/**
 * A doorbell beside the database, so another process hears a commit the moment
 * it is made instead of at its next poll. A commit that wrote events to the
 * change feed "rings" by writing one byte to `<file>-ergon-wake`; a subscribed
 * process watches that file with `fs.watch` (inotify on Linux) and reads the
 * feed when it changes. The file is rung after the commit is published, so a
 * look never comes too early, and only by commits that carry events (not by
 * history records, the hot path). The database files themselves are not
 * watched: a watch on them would make every page write of every process pay
 * for an event. Where rings or watches do not work (a file system that does not
 * report writes, a writer that cannot open the file), the poll still notices
 * every commit.
 *
 * @module
 */
import { closeSync, constants, type FSWatcher, openSync, statSync, watch, writeSync } from 'node:fs';

/** The doorbell file of a database file. */
export function doorbellPath(file: string): string {
  return `${file}-ergon-wake`;
}

const BYTE = new Uint8Array(1);

/** Rings and watches the doorbell of one database file. Errors only lose the shortcut. */
export class Doorbell {
  readonly #path: string;
  readonly #mode: number;
  #fd: number | undefined;
  #broken = false;

  /** `file` is the database file; the doorbell is created with its permissions. */
  constructor(file: string) {
    this.#path = doorbellPath(file);
    let mode = 0o644;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      // The default suits a file only its owner writes.
    }
    this.#mode = mode;
  }

  /** Tells watchers of other processes that a commit with events was made. */
  ring(): void {
    if (this.#broken) return;
    try {
      this.#fd ??= this.#open();
      writeSync(this.#fd, BYTE, 0, 1, 0);
    } catch {
      // Cannot create or write it (permissions, read-only file system): watchers poll instead.
      this.#broken = true;
    }
  }

  /**
   * Calls `onRing` when the doorbell is rung (by any process, this one included, and
   * possibly more than once per ring). Returns the function that stops watching, or
   * undefined when watching is unavailable. The watcher never keeps the process alive.
   */
  watch(onRing: () => void): (() => void) | undefined {
    let watcher: FSWatcher;
    try {
      // A watch needs the file: create it (empty) when no writer has rung yet.
      closeSync(this.#open());
    } catch {
      // No right to create or write it: watch it if a writer has.
    }
    try {
      watcher = watch(this.#path, { persistent: false }, onRing);
    } catch {
      return undefined;
    }
    // A failing watcher only stops the shortcut.
    watcher.on('error', () => watcher.close());
    return () => watcher.close();
  }

  /** Closes the file. */
  close(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // Already gone.
    }
    this.#fd = undefined;
  }

  #open(): number {
    return openSync(this.#path, constants.O_WRONLY | constants.O_CREAT, this.#mode);
  }
}
