/**
 * Reads a growing file line by line, from where it stopped last time, keeping
 * the byte offsets that the watermark needs.
 *
 * @module
 */
import { open } from 'node:fs/promises';
import { ErgonError, ErrorCode } from '@ergon/core';
import { errnoCode } from './fs-utils.js';

/** One line of the source. Blank lines are counted but never returned. */
export interface SourceLine {
  /** 1-based line number. */
  readonly line: number;
  /** The text without its line ending. */
  readonly text: string;
  /** Byte offset where the line starts. */
  readonly start: number;
}

/** Where reading resumes: the first unread byte, and how many lines came before it. */
export interface ReadPosition {
  readonly offset: number;
  readonly line: number;
}

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

/** Incremental reader of one file. */
export class LineReader {
  readonly #path: string;
  readonly #follow: boolean;
  #position: ReadPosition;

  /**
   * @param follow When true an unterminated last line is still being written
   *   and waits; when false it counts as a finished line.
   */
  constructor(path: string, follow: boolean, from: ReadPosition = { offset: 0, line: 0 }) {
    this.#path = path;
    this.#follow = follow;
    this.#position = from;
  }

  /** Where the next read starts. */
  get position(): ReadPosition {
    return this.#position;
  }

  /**
   * Up to `max` lines appended since the last call (blank ones are skipped but
   * counted). A missing file reads as empty.
   */
  async readNew(max: number = Number.POSITIVE_INFINITY): Promise<SourceLine[]> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.#path, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (size < this.#position.offset) {
        throw new ErgonError(
          ErrorCode.CONNECTOR_ERROR,
          `json-lines file ${this.#path} shrank below the ${this.#position.offset} bytes already read: ` +
            'a source file must only grow; point stateDir elsewhere for a new file',
          { details: { path: this.#path, size, offset: this.#position.offset } },
        );
      }
      return await this.#read(handle, size, max);
    } finally {
      await handle.close();
    }
  }

  async #read(handle: Awaited<ReturnType<typeof open>>, size: number, max: number): Promise<SourceLine[]> {
    const lines: SourceLine[] = [];
    let { line } = this.#position;
    // `pending` holds the bytes of an unfinished line, starting at byte `start` of the file.
    let pending = Buffer.alloc(0);
    let start = this.#position.offset;
    let at = start;
    const emit = (bytes: Buffer, from: number) => {
      line += 1;
      const text = bytes.toString('utf8').replace(/\r$/, '');
      if (text.trim() !== '') lines.push({ line, text, start: from });
    };
    while (at < size && lines.length < max) {
      const buffer = Buffer.alloc(Math.min(CHUNK, size - at));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
      if (bytesRead === 0) break;
      at += bytesRead;
      const fresh = buffer.subarray(0, bytesRead);
      const chunk = pending.length > 0 ? Buffer.concat([pending, fresh]) : fresh;
      let from = 0;
      for (let i = chunk.indexOf(NEWLINE); i !== -1 && lines.length < max; i = chunk.indexOf(NEWLINE, from)) {
        emit(chunk.subarray(from, i), start + from);
        from = i + 1;
      }
      start += from;
      pending = Buffer.from(chunk.subarray(from));
    }
    if (at >= size && lines.length < max && pending.length > 0 && !this.#follow) {
      emit(pending, start);
      start += pending.length;
    }
    this.#position = { offset: start, line };
    return lines;
  }
}
