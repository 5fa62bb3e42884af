/**
 * `@ergon/telemetry`: the OpenTelemetry SDK set-up for Ergon applications
 * (traces, metrics and logs; console, OTLP and Prometheus exporters) and a
 * winston JSON logger with trace ids and secret redaction. Libraries depend on
 * `@opentelemetry/api` only; an application installs this package to record.
 *
 * @module
 */
export { createLogger, type LoggerOptions, type LogLevel, type TelemetryLogger } from './logger.js';
export {
  createRedactor,
  DEFAULT_REDACT_KEYS,
  type JsonValue,
  normalizeKey,
  REDACTED,
  type Redactor,
  type RedactorOptions,
} from './redact.js';
export {
  type LogsOptions,
  type MetricsOptions,
  setupTelemetry,
  type Telemetry,
  type TelemetryOptions,
  type TracesOptions,
} from './setup.js';
export type {
  ConsoleTransportOptions,
  FileTransportOptions,
  LogTransportOptions,
  OtlpTransportOptions,
  RotatingFileTransportOptions,
} from './transports.js';
