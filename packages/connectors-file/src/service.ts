/**
 * The protocol side of the file connector (DESIGN §3): reading a JSON-lines
 * file, claiming its lines durably across processes, finishing them, and
 * appending lines. Knows nothing of transactions; {@link JsonLinesConnector}
 * does.
 *
 * @module
 */
import { appendFile, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCode, type HealthStatus, type Service } from '@ergon/core';
import { type Claim, ClaimDirectory, type LineOutcome } from './internal/claims.js';
import { exists, toConnectorError } from './internal/fs-utils.js';
import { LineReader, type SourceLine } from './internal/line-reader.js';
import { createOwner, type Owner } from './internal/owner.js';
import { readWatermark, writeWatermark } from './internal/watermark.js';
import {
  type JsonLinesFileServiceOptions,
  type ResolvedServiceOptions,
  resolveServiceOptions,
} from './options.js';

export type { LineOutcome, SourceLine };

/** Why a line was refused, as written to the dead-letter file. */
export interface DeadLetterReason {
  /** The error's class name. */
  readonly name: string;
  /** What is wrong. */
  readonly message: string;
  /** A stable code: the error's own, `NON_RETRYABLE` for a nack without reason, else `INTERNAL`. */
  readonly code: string;
}

/** A refused line, as written to the dead-letter file. */
export interface DeadLetterEntry {
  /** 1-based line number in the source file. */
  readonly line: number;
  /** The transaction id, when one was made. */
  readonly id?: string;
  /** The line's text as read. */
  readonly text: string;
  /** Why: an error (name, message, code are kept), any other value, or nothing (a nack without reason). */
  readonly reason?: unknown;
}

const WATERMARK_EVERY = 100;
/** Lines read ahead of the claims, bounding memory on large files. */
const READ_AHEAD = 1000;

/** One JSON-lines file with durable line claims. Several processes may share it. */
export class JsonLinesFileService implements Service {
  /** Stable name, `file:<basename>` by default. */
  readonly name: string;
  /** The resolved options (absolute paths, milliseconds). */
  readonly options: ResolvedServiceOptions;
  readonly #owner: Owner = createOwner();
  readonly #claims: ClaimDirectory;
  readonly #held = new Map<number, { claim: Claim; source: SourceLine }>();
  #pending: SourceLine[] = [];
  #reader: LineReader | undefined;
  #starting: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #watermark = 0;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: JsonLinesFileServiceOptions) {
    this.options = resolveServiceOptions(options);
    this.name = this.options.name;
    this.#claims = new ClaimDirectory({
      dir: this.options.stateDir,
      owner: this.#owner,
      staleMs: this.options.claimTimeoutMs,
      fsync: this.options.fsync,
    });
  }

  /** Creates the state directory, reads the watermark, starts heart-beating claims. Idempotent. */
  start(): Promise<void> {
    this.#starting ??= this.#start().catch((error) => {
      this.#starting = undefined;
      throw toConnectorError(error, 'starting on', this.options.path);
    });
    return this.#starting;
  }

  /** Gives back every claim still held (they are requeued), saves the watermark. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#starting) return;
    await this.#starting.catch(() => undefined);
    clearInterval(this.#heartbeat);
    await this.#serial(async () => {
      for (const line of [...this.#held.keys()]) await this.#finish(line, undefined);
      await this.#saveWatermark(true);
    });
    this.#starting = undefined;
    this.#reader = undefined;
    this.#pending = [];
  }

  /** Healthy when the file's directory and the state directory exist. */
  async health(): Promise<HealthStatus> {
    const dir = dirname(this.options.path);
    if (!(await exists(dir))) return { healthy: false, detail: `directory ${dir} does not exist` };
    if (this.#starting && !(await exists(this.options.stateDir))) {
      return { healthy: false, detail: `state directory ${this.options.stateDir} is gone` };
    }
    return { healthy: true };
  }

  /** Lines this instance holds claims on, in no particular order. */
  get heldLines(): readonly number[] {
    return [...this.#held.keys()];
  }

  /**
   * Claims up to `limit` unfinished lines, oldest first, skipping lines that
   * are finished or held by a live owner. Reads what was appended meanwhile.
   */
  claimLines(limit: number, signal?: AbortSignal): Promise<SourceLine[]> {
    return this.#serial(async () => {
      await this.start();
      const reader = this.#reader as LineReader;
      const pending = this.#pending;
      const claimed: SourceLine[] = [];
      // Compacts `pending` in place: lines still busy move down to `kept`.
      let kept = 0;
      let next = 0;
      while (claimed.length < limit && !signal?.aborted) {
        if (next === pending.length) {
          const more = await reader.readNew(READ_AHEAD);
          if (more.length === 0) break;
          pending.push(...more);
        }
        const source = pending[next++] as SourceLine;
        const attempt = await this.#claims.claim(source.line);
        if (attempt.status === 'claimed') {
          this.#held.set(source.line, { claim: attempt.claim, source });
          claimed.push(source);
        } else if (attempt.status === 'busy') pending[kept++] = source;
      }
      pending.copyWithin(kept, next);
      pending.length -= next - kept;
      await this.#saveWatermark(false);
      return claimed;
    }, 'reading');
  }

  /** Finishes a held line for good (`ack` or `dead-letter`). */
  complete(line: number, outcome: LineOutcome): Promise<void> {
    return this.#serial(() => this.#finish(line, outcome), 'finishing a line of');
  }

  /** Gives a held line back: it is delivered again, here or in another process. */
  release(line: number): Promise<void> {
    return this.#serial(() => this.#finish(line, undefined), 'releasing a line of');
  }

  /** Appends one record to the dead-letter file. */
  async deadLetter(entry: DeadLetterEntry): Promise<void> {
    const record = {
      ...entry,
      reason: describeReason(entry.reason),
      source: this.options.path,
      at: new Date(),
    };
    try {
      await appendFile(this.options.deadLetterPath, `${JSON.stringify(record)}\n`);
    } catch (error) {
      throw toConnectorError(error, 'dead-lettering to', this.options.deadLetterPath);
    }
  }

  /** Appends lines (without their newline) in one write, so concurrent writers never interleave them. */
  async appendLines(texts: readonly string[]): Promise<void> {
    if (texts.length === 0) return;
    try {
      const handle = await open(this.options.path, 'a');
      try {
        await handle.appendFile(texts.map((text) => `${text}\n`).join(''));
        if (this.options.fsync) await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw toConnectorError(error, 'appending to', this.options.path);
    }
  }

  async #start(): Promise<void> {
    await mkdir(this.options.stateDir, { recursive: true });
    const position = await readWatermark(this.options.stateDir);
    this.#watermark = position.line;
    this.#reader = new LineReader(this.options.path, this.options.follow, position);
    this.#heartbeat = setInterval(
      () => {
        this.#claims.heartbeat([...this.#held.values()].map((h) => h.claim)).catch(() => undefined);
      },
      Math.max(10, Math.floor(this.options.claimTimeoutMs / 3)),
    );
    this.#heartbeat.unref();
  }

  async #finish(line: number, outcome: LineOutcome | undefined): Promise<void> {
    const held = this.#held.get(line);
    if (!held)
      throw toConnectorError(new Error(`line ${line} is not claimed here`), 'finishing', this.options.path);
    if (outcome) await this.#claims.complete(held.claim, outcome);
    else {
      await this.#claims.release(held.claim);
      this.#pending.push(held.source);
      this.#pending.sort((a, b) => a.line - b.line);
    }
    this.#held.delete(line);
  }

  /** Saves the watermark: everything before the oldest unfinished line is done. */
  async #saveWatermark(force: boolean): Promise<void> {
    const reader = this.#reader;
    if (!reader) return;
    let oldest: SourceLine | undefined = this.#pending[0];
    for (const { source } of this.#held.values()) if (!oldest || source.line < oldest.line) oldest = source;
    const position = oldest ? { line: oldest.line - 1, offset: oldest.start } : reader.position;
    if (position.line <= this.#watermark || (!force && position.line - this.#watermark < WATERMARK_EVERY))
      return;
    await writeWatermark(this.options.stateDir, position, this.options.fsync);
    this.#watermark = position.line;
  }

  /** Runs file work one operation at a time per instance; failures become `CONNECTOR_ERROR`. */
  #serial<T>(work: () => Promise<T>, action = 'using'): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run.catch((error: unknown) => {
      throw toConnectorError(error, action, this.options.path);
    });
  }
}

/**
 * A dead letter's reason as the README promises it: `{ name, message, code }`.
 * An error keeps its own code (`INTERNAL` when it has none); a nack without a
 * reason is `NON_RETRYABLE`; any other value becomes the message.
 */
function describeReason(reason: unknown): DeadLetterReason {
  if (reason instanceof Error) {
    const code = (reason as { code?: unknown }).code;
    return {
      name: reason.name,
      message: reason.message,
      code: typeof code === 'string' ? code : ErrorCode.INTERNAL,
    };
  }
  if (reason === undefined) {
    return {
      name: 'NonRetryableError',
      message: 'nacked without requeue and without a reason',
      code: ErrorCode.NON_RETRYABLE,
    };
  }
  let message: string;
  try {
    message = typeof reason === 'string' ? reason : (JSON.stringify(reason) ?? String(reason));
  } catch {
    message = String(reason);
  }
  return { name: 'Error', message, code: ErrorCode.INTERNAL };
}
