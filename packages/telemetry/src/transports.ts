/**
 * Log transports: where the JSON lines of {@link createLogger} go. Each one is
 * a small, validated description turned into a winston transport.
 *
 * @module
 */
import { InvalidArgumentError } from '@ergon/core';
import winston from 'winston';
import DailyRotateFile from 'winston-daily-rotate-file';
import {
  describe,
  isRecord,
  optionalHeaders,
  optionalUrl,
  rejectUnknownKeys,
  requireName,
} from './internal/validate.js';
import { OtlpLogTransport } from './otlp-log-transport.js';

/** One JSON line per entry to a stream: `process.stdout` unless `stream` is given. */
export interface ConsoleTransportOptions {
  /** Selects this transport. */
  readonly type: 'console';
  /** Where lines are written. Default `process.stdout`. It is never ended by the logger. */
  readonly stream?: NodeJS.WritableStream;
}

/** Appends JSON lines to one file (its directory is created when missing). */
export interface FileTransportOptions {
  /** Selects this transport. */
  readonly type: 'file';
  /** The file to append to. */
  readonly path: string;
}

/**
 * Files rotated by date and size (winston-daily-rotate-file). `%DATE%` in
 * `filename` is replaced by the date, e.g. `app-%DATE%.log`.
 */
export interface RotatingFileTransportOptions {
  /** Selects this transport. */
  readonly type: 'rotating-file';
  /** The directory of the files (created when missing). */
  readonly dirname: string;
  /** File name pattern; `%DATE%` is replaced by the date (`app-%DATE%.log`). */
  readonly filename: string;
  /** Rotate past this size: bytes, or `'10k'`, `'20m'`, `'1g'`. Default: no size limit. */
  readonly maxSize?: string | number;
  /** Files to keep: a count, or days as `'14d'`. Default: keep all. */
  readonly maxFiles?: string | number;
  /** moment.js pattern of `%DATE%`, which also sets the rotation frequency. Default `'YYYY-MM-DD'`. */
  readonly datePattern?: string;
  /** Gzip rotated files. Default false. */
  readonly zippedArchive?: boolean;
}

/**
 * Sends lines as OpenTelemetry log records over OTLP/HTTP. With `url` the
 * transport has its own exporter; without it, records go to the global
 * logger provider that `setupTelemetry({ logs })` registers.
 */
export interface OtlpTransportOptions {
  /** Selects this transport. */
  readonly type: 'otlp';
  /** A collector's logs endpoint, e.g. `http://localhost:4318/v1/logs`. */
  readonly url?: string;
  /** Extra HTTP headers for the collector (with `url`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** One of the supported transports. */
export type LogTransportOptions =
  | ConsoleTransportOptions
  | FileTransportOptions
  | RotatingFileTransportOptions
  | OtlpTransportOptions;

/** A built transport and how to flush it on close. */
export interface BuiltTransport {
  readonly transport: winston.transport;
  /** Runs after winston has ended every transport; resolves when data is written. */
  readonly close?: () => Promise<void>;
}

const TRANSPORT_TYPES = ['console', 'file', 'rotating-file', 'otlp'] as const;

/** Validates one transport description and builds it. */
export function buildTransport(options: unknown, index: number, service: string): BuiltTransport {
  const name = `transports[${index}]`;
  if (!isRecord(options) || !TRANSPORT_TYPES.includes(options.type as never)) {
    throw new InvalidArgumentError(
      `${name} must be an object whose type is one of ${TRANSPORT_TYPES.map((t) => `'${t}'`).join(', ')}, got ${
        isRecord(options) ? `type ${describe(options.type)}` : describe(options)
      }`,
    );
  }
  switch (options.type) {
    case 'console': {
      rejectUnknownKeys(options, ['type', 'stream'], name);
      const stream = options.stream ?? process.stdout;
      if (!isRecord(stream) || typeof stream.write !== 'function') {
        throw new InvalidArgumentError(`${name}.stream must be a writable stream`);
      }
      return {
        transport: new winston.transports.Stream({ stream: stream as unknown as NodeJS.WritableStream }),
      };
    }
    case 'file': {
      rejectUnknownKeys(options, ['type', 'path'], name);
      const filename = requireName(options.path, `${name}.path`);
      return { transport: new winston.transports.File({ filename }) };
    }
    case 'rotating-file':
      return rotatingFile(options, name);
    default: {
      rejectUnknownKeys(options, ['type', 'url', 'headers'], name);
      const transport = new OtlpLogTransport({
        service,
        url: optionalUrl(options.url, `${name}.url`),
        headers: optionalHeaders(options.headers, `${name}.headers`),
      });
      return { transport, close: () => transport.shutdown() };
    }
  }
}

function rotatingFile(options: Record<string, unknown>, name: string): BuiltTransport {
  rejectUnknownKeys(
    options,
    ['type', 'dirname', 'filename', 'maxSize', 'maxFiles', 'datePattern', 'zippedArchive'],
    name,
  );
  const dirname = requireName(options.dirname, `${name}.dirname`);
  const filename = requireName(options.filename, `${name}.filename`);
  if (/[/\\]/.test(filename)) {
    throw new InvalidArgumentError(
      `${name}.filename must be a file name without a directory; put that in dirname`,
    );
  }
  const { maxSize, maxFiles, datePattern, zippedArchive } = options;
  if (maxSize !== undefined && !isSize(maxSize)) {
    throw new InvalidArgumentError(
      `${name}.maxSize must be a positive number of bytes or a size like '10k', '20m', '1g', got ${describe(maxSize)}`,
    );
  }
  if (maxFiles !== undefined && !isKeep(maxFiles)) {
    throw new InvalidArgumentError(
      `${name}.maxFiles must be a positive count or a number of days like '14d', got ${describe(maxFiles)}`,
    );
  }
  if (datePattern !== undefined) requireName(datePattern, `${name}.datePattern`);
  if (zippedArchive !== undefined && typeof zippedArchive !== 'boolean') {
    throw new InvalidArgumentError(`${name}.zippedArchive must be a boolean`);
  }
  const transport = new DailyRotateFile({
    dirname,
    filename,
    ...(maxSize === undefined ? {} : { maxSize: maxSize as string | number }),
    ...(maxFiles === undefined ? {} : { maxFiles: maxFiles as string | number }),
    ...(datePattern === undefined ? {} : { datePattern: datePattern as string }),
    ...(zippedArchive === undefined ? {} : { zippedArchive }),
  });
  return {
    transport,
    // Ends the current file stream (a no-op when winston already ended it) and
    // resolves once its data is on disk.
    close: () =>
      new Promise<void>((resolve) => {
        const stream = (transport as unknown as { logStream?: { end(cb: () => void): void } }).logStream;
        if (stream) stream.end(() => resolve());
        else resolve();
      }),
  };
}

const isSize = (value: unknown) =>
  (typeof value === 'number' && Number.isInteger(value) && value > 0) ||
  (typeof value === 'string' && /^(?:0\.)?\d+[kmg]$/i.test(value));

const isKeep = (value: unknown) =>
  (typeof value === 'number' && Number.isInteger(value) && value > 0) ||
  (typeof value === 'string' && /^[1-9]\d*d?$/.test(value));
