/**
 * The small logging interface the libraries call. `@ergon/telemetry` provides
 * a winston implementation with trace ids; the default does nothing.
 *
 * @module
 */

/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** A structured logger. */
export interface Logger {
  /** Detail for diagnosing a problem; usually off in production. */
  debug(message: string, fields?: LogFields): void;
  /** A normal event worth recording (a worker started, a run ended). */
  info(message: string, fields?: LogFields): void;
  /** Something unexpected that Ergon handled (a retry, a reconnect, an unknown flow type). */
  warn(message: string, fields?: LogFields): void;
  /** A failure that needs attention (a run failed, a store call kept failing). */
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** A logger that drops everything. */
export const noopLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return noopLogger;
  },
});

/** A minimal logger writing one JSON line per entry to stderr; for scripts and debugging. */
export function createConsoleLogger(
  base: LogFields = {},
  minLevel: 'debug' | 'info' | 'warn' | 'error' = 'info',
): Logger {
  const order = { debug: 0, info: 1, warn: 2, error: 3 } as const;
  const write = (level: keyof typeof order, message: string, fields?: LogFields) => {
    if (order[level] < order[minLevel]) return;
    process.stderr.write(
      `${JSON.stringify({ timestamp: new Date().toISOString(), level, message, ...base, ...fields })}\n`,
    );
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createConsoleLogger({ ...base, ...fields }, minLevel),
  };
}
