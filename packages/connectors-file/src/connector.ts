/**
 * The transaction side of the file connector: lines in as transactions,
 * transactions out as lines, ack and nack mapped to durable line markers.
 *
 * @module
 */
import {
  type Connector,
  createTransaction,
  ErgonError,
  ErrorCode,
  type FetchOptions,
  InvalidArgumentError,
  isValidId,
  type NackOptions,
  SerializationError,
  type Transaction,
} from '@ergon/core';
import { filePrefix, lineId } from './ids.js';
import { LineReader } from './internal/line-reader.js';
import { JsonLinesFileService } from './service.js';

/** Lines read at a time while looking a transaction up. */
const SCAN_CHUNK = 1024;

/**
 * Field of a line's JSON object that carries the W3C `traceparent` of the
 * transaction that wrote it; moved into `metadata.traceparent` on read.
 */
export const TRACE_FIELD = '_traceparent';

/** Metadata keys set on fetched transactions. */
export const FILE_METADATA = Object.freeze({
  /** Absolute path of the source file. */
  path: 'file.path',
  /** 1-based line number, as a string. */
  line: 'file.line',
} as const);

/** Options of {@link JsonLinesConnector}. */
export interface JsonLinesConnectorOptions {
  /** The file, as a service. */
  readonly service: JsonLinesFileService;
  /** Name for logs and dependency injection. Default the service's name. */
  readonly name?: string;
  /**
   * A payload field that carries the transaction id (a string accepted by
   * `validateId`). Default `'id'`; `false` always uses `<file>:<line>` ids.
   */
  readonly idField?: string | false;
  /** When dispatching, add the transaction id under `idField` to object payloads that lack it. Default true. */
  readonly writeIds?: boolean;
}

/**
 * Fetches the lines of a JSON-lines file as transactions and appends
 * dispatched ones. Each fetched line stays claimed (no other process gets it)
 * until it is acked, nacked, or its holder dies. Lines that are not JSON, or
 * whose payload a transaction cannot hold, are dead-lettered with their line
 * numbers at fetch time and never returned.
 */
export class JsonLinesConnector<P = unknown> implements Connector<P, P> {
  /** Stable name (the service's by default). */
  readonly name: string;
  /** The file's service. */
  readonly service: JsonLinesFileService;
  readonly #idField: string | false;
  readonly #writeIds: boolean;
  readonly #prefix: string;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: JsonLinesConnectorOptions) {
    if (!(options?.service instanceof JsonLinesFileService)) {
      throw new InvalidArgumentError('JsonLinesConnector needs a JsonLinesFileService as `service`');
    }
    const idField = options.idField ?? 'id';
    if (idField !== false && (typeof idField !== 'string' || idField === '')) {
      throw new InvalidArgumentError('JsonLinesConnector idField must be a non-empty string or false');
    }
    this.service = options.service;
    this.name = options.name ?? options.service.name;
    this.#idField = idField;
    this.#writeIds = options.writeIds ?? true;
    this.#prefix = filePrefix(options.service.options.path);
  }

  /** Starts the service. */
  start(): Promise<void> {
    return this.service.start();
  }

  /** Stops the service, requeueing lines still held. */
  stop(): Promise<void> {
    return this.service.stop();
  }

  /** Claims and parses up to `limit` lines; malformed ones are dead-lettered, not returned. */
  async fetchTransactions(options: FetchOptions): Promise<Transaction<P>[]> {
    const out: Transaction<P>[] = [];
    while (out.length < options.limit && !options.signal?.aborted) {
      const lines = await this.service.claimLines(options.limit - out.length, options.signal);
      if (lines.length === 0) break;
      for (const { line, text } of lines) {
        try {
          out.push(this.#toTransaction(line, parseLine(line, text)));
        } catch (reason) {
          await this.service.deadLetter({ line, text, reason });
          await this.service.complete(line, 'dead-letter');
        }
      }
    }
    return out;
  }

  /**
   * Reads the transaction `id` without claiming it: the line `<file>:<n>`
   * for a line id, otherwise the first line whose `idField` holds `id`.
   * Finished and claimed lines are found too; lines that are not JSON are
   * passed over. Scans the file from its start.
   */
  async findTransaction(
    id: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<Transaction<P> | undefined> {
    const lineNumber = id.startsWith(`${this.#prefix}:`)
      ? Number(id.slice(this.#prefix.length + 1))
      : undefined;
    const field = this.#idField;
    if (lineNumber === undefined && !field) return undefined;
    const reader = new LineReader(this.service.options.path, this.service.options.follow);
    try {
      for (;;) {
        options.signal?.throwIfAborted();
        const lines = await reader.readNew(SCAN_CHUNK);
        if (lines.length === 0) return undefined;
        for (const { line, text } of lines) {
          if (lineNumber !== undefined) {
            if (line === lineNumber) return this.#toTransaction(line, parseLine(line, text));
            if (line > lineNumber) return undefined;
            continue;
          }
          // A cheap test first: a line that does not contain the id cannot carry it.
          if (!text.includes(JSON.stringify(id).slice(1, -1))) continue;
          let raw: unknown;
          try {
            raw = JSON.parse(text);
          } catch {
            continue;
          }
          if (isPlainObject(raw) && raw[field as string] === id) return this.#toTransaction(line, raw);
        }
      }
    } catch (error) {
      if (error instanceof ErgonError || options.signal?.aborted) throw error;
      throw new ErgonError(
        ErrorCode.CONNECTOR_ERROR,
        `cannot read transaction ${id} from ${this.service.options.path}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error, details: { id, path: this.service.options.path } },
      );
    }
  }

  /** Appends each payload as one JSON line, in one write. */
  async dispatchTransactions(transactions: readonly Transaction<P>[]): Promise<void> {
    const texts = transactions.map((tx) => {
      let value: unknown = tx.payload;
      const field = this.#idField;
      if (this.#writeIds && field && isPlainObject(value) && !(field in value))
        value = { [field]: tx.id, ...value };
      // Trace context travels in the line, so a consumer of this file continues the producer's trace.
      const traceparent = tx.metadata.traceparent;
      if (traceparent !== undefined && isPlainObject(value)) value = { ...value, [TRACE_FIELD]: traceparent };
      const text = JSON.stringify(value);
      if (text === undefined) {
        throw new InvalidArgumentError(`transaction ${tx.id} has a payload JSON cannot hold`, {
          details: { id: tx.id },
        });
      }
      return text;
    });
    await this.service.appendLines(texts);
  }

  /** Marks the transaction's line finished. */
  async ack(transaction: Transaction<P>): Promise<void> {
    return this.service.complete(this.#lineOf(transaction), 'ack');
  }

  /** Requeues the line, or dead-letters it (with `reason`) when `requeue` is false. */
  async nack(transaction: Transaction<P>, options: NackOptions): Promise<void> {
    const line = this.#lineOf(transaction);
    if (options.requeue) return this.service.release(line);
    const text = JSON.stringify(transaction.payload) ?? '';
    await this.service.deadLetter({ line, id: transaction.id, text, reason: options.reason });
    await this.service.complete(line, 'dead-letter');
  }

  #toTransaction(line: number, raw: unknown): Transaction<P> {
    const field = this.#idField;
    let payload = raw;
    const metadata: Record<string, string> = {
      [FILE_METADATA.path]: this.service.options.path,
      [FILE_METADATA.line]: String(line),
    };
    if (isPlainObject(raw) && typeof raw[TRACE_FIELD] === 'string') {
      const { [TRACE_FIELD]: traceparent, ...rest } = raw;
      metadata.traceparent = traceparent as string;
      payload = rest;
    }
    const own = field && isPlainObject(payload) ? payload[field] : undefined;
    if (own !== undefined && !isValidId(own)) {
      throw new InvalidArgumentError(`line ${line}: field ${field} is not a valid transaction id`, {
        code: ErrorCode.INVALID_ID,
        details: { line },
      });
    }
    return createTransaction<P>({
      id: (own as string | undefined) ?? lineId(this.#prefix, line),
      payload: payload as P,
      metadata,
    });
  }

  #lineOf(transaction: Transaction<P>): number {
    const line = Number(transaction?.metadata?.[FILE_METADATA.line]);
    if (
      !Number.isSafeInteger(line) ||
      transaction.metadata[FILE_METADATA.path] !== this.service.options.path
    ) {
      throw new InvalidArgumentError(
        `transaction ${transaction?.id} was not fetched from ${this.service.name}`,
      );
    }
    return line;
  }
}

/** The line's JSON. @throws SerializationError (`CODEC_MALFORMED`) when it is not JSON. */
function parseLine(line: number, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SerializationError(
      ErrorCode.CODEC_MALFORMED,
      `line ${line} is not JSON (${error instanceof Error ? error.message : String(error)}): fix the producer; the line is in the dead-letter file`,
      { cause: error, details: { line } },
    );
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
