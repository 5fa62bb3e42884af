/**
 * `createLogger`: a winston logger behind core's `Logger` interface. Every line
 * is one JSON object with `timestamp`, `level`, `message`, `trace_id` and
 * `span_id` (when a span is active), `service`, then the fields in scope.
 * Configured secret keys are redacted before any transport sees the line.
 *
 * @module
 */
import { InvalidArgumentError, type LogFields, type Logger } from '@ergon/core';
import { context, isSpanContextValid, type SpanContext, trace } from '@opentelemetry/api';
import winston from 'winston';
import { MESSAGE, RECORD, SPAN_CONTEXT } from './internal/symbols.js';
import { describe, isRecord, rejectUnknownKeys, requireName } from './internal/validate.js';
import { createRedactor, DEFAULT_REDACT_KEYS, type JsonValue, type Redactor } from './redact.js';
import { type BuiltTransport, buildTransport, type LogTransportOptions } from './transports.js';

/** Levels, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const LEVELS: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };

/** Keys every line carries; fields with these names are kept as `field.<name>` instead. */
const RESERVED = new Set(['timestamp', 'level', 'message', 'trace_id', 'span_id', 'service']);

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The `service` of every line. */
  readonly service: string;
  /** Lines below this level are dropped. Default `'info'`. */
  readonly level?: LogLevel;
  /** At least one destination. */
  readonly transports: readonly LogTransportOptions[];
  /**
   * Keys whose values are replaced by `"[REDACTED]"` at any depth, compared
   * case-insensitively and ignoring `-`, `_` and `.`. Added to
   * {@link DEFAULT_REDACT_KEYS} unless `redactDefaults` is false.
   */
  readonly redact?: readonly string[];
  /** Whether {@link DEFAULT_REDACT_KEYS} are redacted too. Default true. */
  readonly redactDefaults?: boolean;
  /** Fields added to every line (redacted like any other). */
  readonly fields?: LogFields;
}

/** A {@link Logger} that can be flushed and closed. */
export interface TelemetryLogger extends Logger {
  child(fields: LogFields): TelemetryLogger;
  /**
   * Writes out everything logged so far (files on disk, OTLP records sent) and
   * closes the transports. Idempotent; lines logged afterwards are dropped.
   * Closing a child closes the whole logger.
   */
  close(): Promise<void>;
}

interface Shared {
  readonly winston: winston.Logger;
  readonly level: number;
  readonly service: string;
  readonly redact: Redactor;
  readonly transports: readonly BuiltTransport[];
  closed: boolean;
  closing?: Promise<void>;
}

/**
 * A JSON-lines logger on winston. Lines logged inside an active span carry its
 * `trace_id` and `span_id`; `child(fields)` adds fields (e.g. `flowId`) to
 * every line of the child. Throws `InvalidArgumentError` (`INVALID_ARGUMENT`)
 * for malformed options.
 */
export function createLogger(options: LoggerOptions): TelemetryLogger {
  if (!isRecord(options)) throw new InvalidArgumentError('createLogger options must be an object');
  rejectUnknownKeys(
    options,
    ['service', 'level', 'transports', 'redact', 'redactDefaults', 'fields'],
    'createLogger options',
  );
  const service = requireName(options.service, 'service');
  const levelName = options.level ?? 'info';
  if (!Object.hasOwn(LEVELS, levelName)) {
    throw new InvalidArgumentError(
      `level must be one of ${Object.keys(LEVELS).join(', ')}, got ${describe(levelName)}`,
    );
  }
  if (!Array.isArray(options.transports) || options.transports.length === 0) {
    throw new InvalidArgumentError(
      "transports must be a non-empty array, e.g. [{ type: 'console' }, { type: 'file', path: 'app.log' }]",
    );
  }
  const redact = options.redact ?? [];
  if (!Array.isArray(redact) || !redact.every((k) => typeof k === 'string' && k !== '')) {
    throw new InvalidArgumentError('redact must be an array of non-empty key names');
  }
  if (options.redactDefaults !== undefined && typeof options.redactDefaults !== 'boolean') {
    throw new InvalidArgumentError('redactDefaults must be a boolean');
  }
  if (options.fields !== undefined && !isRecord(options.fields)) {
    throw new InvalidArgumentError('fields must be an object');
  }
  const keys = options.redactDefaults === false ? redact : [...DEFAULT_REDACT_KEYS, ...redact];
  const transports = options.transports.map((t, i) => buildTransport(t, i, service));

  const logger = winston.createLogger({
    levels: LEVELS,
    level: levelName,
    exitOnError: false,
    // The line is built (and redacted) before winston sees it; this only
    // hands it to the transports in the form they write.
    format: winston.format((info) => {
      info[MESSAGE] = JSON.stringify(info[RECORD]);
      return info;
    })(),
    transports: transports.map((t) => t.transport),
  });
  let reported = 0;
  logger.on('error', (error: unknown) => {
    // A failing transport must not crash the process; say so on stderr a few times.
    if (reported++ < 5) {
      process.stderr.write(
        `[@ergon/telemetry] a log transport failed: ${(error as Error)?.message ?? error}\n`,
      );
    }
  });

  const shared: Shared = {
    winston: logger,
    level: LEVELS[levelName],
    service,
    redact: createRedactor({ keys }),
    transports,
    closed: false,
  };
  return makeLogger(shared, protect(shared.redact(options.fields ?? {})));
}

function makeLogger(shared: Shared, scope: Readonly<Record<string, JsonValue>>): TelemetryLogger {
  const write = (level: LogLevel, message: string, fields: LogFields | undefined) => {
    if (shared.closed || LEVELS[level] > shared.level) return;
    // Read in the caller's async context: winston may run transports later.
    const span = trace.getSpan(context.active())?.spanContext();
    const active: SpanContext | undefined = span && isSpanContextValid(span) ? span : undefined;
    const record: Record<string, JsonValue> = {
      timestamp: new Date().toISOString(),
      level,
      message: typeof message === 'string' ? message : String(message),
    };
    if (active) {
      record.trace_id = active.traceId;
      record.span_id = active.spanId;
    }
    record.service = shared.service;
    Object.assign(record, scope);
    if (fields !== undefined && fields !== null) Object.assign(record, protect(shared.redact(fields)));
    const info: Record<string | symbol, unknown> = { level, message: record.message };
    info[RECORD] = record;
    if (active) info[SPAN_CONTEXT] = active;
    shared.winston.log(info as unknown as winston.LogEntry);
  };
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    child: (fields) => makeLogger(shared, { ...scope, ...protect(shared.redact(fields ?? {})) }),
    close: () => close(shared),
  };
}

/** Moves fields named like the fixed keys out of their way. */
function protect(fields: Record<string, JsonValue>): Record<string, JsonValue> {
  let out = fields;
  for (const key of Object.keys(fields)) {
    if (!RESERVED.has(key)) continue;
    if (out === fields) out = { ...fields };
    out[`field.${key}`] = out[key] as JsonValue;
    delete out[key];
  }
  return out;
}

function close(shared: Shared): Promise<void> {
  shared.closing ??= (async () => {
    shared.closed = true;
    const finished = new Promise<void>((resolve) => {
      shared.winston.once('finish', () => resolve());
    });
    // Ending the logger ends every transport after its pending lines; the
    // file transport's 'finish' waits for the data to reach the file.
    shared.winston.end();
    await finished;
    await Promise.allSettled(shared.transports.map((t) => t.close?.()));
  })();
  return shared.closing;
}
