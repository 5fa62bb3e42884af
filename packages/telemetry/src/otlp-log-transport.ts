/**
 * A winston transport that hands each line to the OpenTelemetry logs SDK, so
 * an OTLP collector receives it as a log record correlated with its span.
 *
 * @module
 */
import { ROOT_CONTEXT, type SpanContext, trace } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import TransportStream from 'winston-transport';
import { RECORD, SPAN_CONTEXT } from './internal/symbols.js';
import type { JsonValue } from './redact.js';

const SCOPE = '@ergon/telemetry';

const SEVERITY: Readonly<Record<string, SeverityNumber>> = {
  debug: SeverityNumber.DEBUG,
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
};

/** Where the OTLP transport sends records. */
export interface OtlpLogTransportOptions {
  readonly service: string;
  /** Collector logs endpoint. Without it, records go to the global logger provider (`setupTelemetry({ logs })`). */
  readonly url?: string | undefined;
  readonly headers?: Record<string, string> | undefined;
}

/**
 * Emits each line as an OpenTelemetry log record: `body` is the message,
 * attributes are the (already redacted) fields, and the record carries the
 * span context captured when the line was logged.
 */
export class OtlpLogTransport extends TransportStream {
  readonly #provider: LoggerProvider | undefined;

  constructor(options: OtlpLogTransportOptions) {
    super();
    this.#provider =
      options.url === undefined
        ? undefined
        : new LoggerProvider({
            resource: resourceFromAttributes({ 'service.name': options.service }),
            processors: [
              new BatchLogRecordProcessor({
                exporter: new OTLPLogExporter({ url: options.url, headers: options.headers }),
              }),
            ],
          });
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    const record = info[RECORD] as Record<string, JsonValue> | undefined;
    if (record) {
      const { timestamp, level, message, trace_id: _t, span_id: _s, service: _svc, ...attributes } = record;
      const span = info[SPAN_CONTEXT] as SpanContext | undefined;
      // Looked up per line so a provider registered (or replaced) later is used.
      const logger = this.#provider ? this.#provider.getLogger(SCOPE) : logs.getLogger(SCOPE);
      logger.emit({
        timestamp: typeof timestamp === 'string' ? new Date(timestamp) : new Date(),
        severityNumber: SEVERITY[String(level)] ?? SeverityNumber.UNSPECIFIED,
        severityText: String(level),
        body: typeof message === 'string' ? message : String(message),
        attributes,
        context: span ? trace.setSpanContext(ROOT_CONTEXT, span) : ROOT_CONTEXT,
      });
    }
    next();
  }

  /** Exports what is buffered and stops this transport's own provider (if it has one). */
  async shutdown(): Promise<void> {
    await this.#provider?.shutdown();
  }
}
