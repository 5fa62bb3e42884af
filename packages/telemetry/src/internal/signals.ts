/**
 * Validation and construction of the three signal pipelines (traces, metrics,
 * logs) from `setupTelemetry`'s options. Nothing here touches globals.
 *
 * @module
 */
import { InvalidArgumentError } from '@ergon/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  BatchLogRecordProcessor,
  ConsoleLogRecordExporter,
  type LogRecordExporter,
  type LogRecordProcessor,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import {
  ConsoleMetricExporter,
  type IMetricReader,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import {
  describe,
  hasMethods,
  optionalHeaders,
  optionalInteger,
  optionalUrl,
  rejectUnknownKeys,
  requireName,
  requireObject,
} from './validate.js';

/** The trace pipeline: span processors (none for `'none'`) and an optional sampler. */
export interface TracePlan {
  readonly processors: SpanProcessor[];
  readonly sampler: Sampler | undefined;
}

/** The metric pipeline: readers, plus the Prometheus exporter and where to serve it. */
export interface MetricPlan {
  readonly readers: IMetricReader[];
  readonly prometheus?: {
    exporter: PrometheusExporter;
    port: number;
    host: string | undefined;
    endpoint: string;
  };
}

const choice = (value: unknown, allowed: readonly string[], name: string, what: string): never => {
  throw new InvalidArgumentError(
    `${name}.exporter must be one of ${allowed.map((a) => `'${a}'`).join(', ')} or ${what}, got ${describe(value)}`,
  );
};

/** Validates `traces` and builds its processors. */
export function planTraces(value: unknown): TracePlan {
  const options = requireObject(value, 'traces');
  rejectUnknownKeys(options, ['exporter', 'url', 'headers', 'sampleRatio'], 'traces');
  const url = optionalUrl(options.url, 'traces.url');
  const headers = optionalHeaders(options.headers, 'traces.headers');
  const ratio = options.sampleRatio;
  if (ratio !== undefined && (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1))) {
    throw new InvalidArgumentError(`traces.sampleRatio must be a number from 0 to 1, got ${describe(ratio)}`);
  }
  const sampler =
    ratio === undefined ? undefined : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  const { exporter } = options;
  let processors: SpanProcessor[];
  if (exporter === 'none') processors = [];
  else if (exporter === 'console') processors = [new SimpleSpanProcessor(new ConsoleSpanExporter())];
  else if (exporter === 'otlp') {
    processors = [
      new BatchSpanProcessor(new OTLPTraceExporter({ ...(url && { url }), ...(headers && { headers }) })),
    ];
  } else if (hasMethods(exporter, ['export', 'shutdown'])) {
    processors = [new BatchSpanProcessor(exporter as SpanExporter)];
  } else {
    return choice(exporter, ['console', 'otlp', 'none'], 'traces', 'a SpanExporter');
  }
  return { processors, sampler };
}

/** Validates `metrics` and builds its readers. */
export function planMetrics(value: unknown): MetricPlan {
  const options = requireObject(value, 'metrics');
  rejectUnknownKeys(
    options,
    ['exporter', 'port', 'host', 'endpoint', 'url', 'headers', 'intervalMs'],
    'metrics',
  );
  const url = optionalUrl(options.url, 'metrics.url');
  const headers = optionalHeaders(options.headers, 'metrics.headers');
  const port = optionalInteger(options.port, 'metrics.port', 0, 65_535);
  const intervalMs = optionalInteger(options.intervalMs, 'metrics.intervalMs', 100, 24 * 3_600_000) ?? 60_000;
  const host = options.host === undefined ? undefined : requireName(options.host, 'metrics.host');
  const endpoint =
    options.endpoint === undefined ? '/metrics' : requireName(options.endpoint, 'metrics.endpoint');
  if (!endpoint.startsWith('/')) throw new InvalidArgumentError(`metrics.endpoint must start with '/'`);
  const periodic = (exporter: PushMetricExporter) =>
    new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: intervalMs,
      // The reader refuses a timeout longer than its interval.
      exportTimeoutMillis: Math.min(30_000, intervalMs),
    });
  const { exporter } = options;
  switch (exporter) {
    case 'none':
      return { readers: [] };
    case 'console':
      return { readers: [periodic(new ConsoleMetricExporter())] };
    case 'otlp':
      return {
        readers: [periodic(new OTLPMetricExporter({ ...(url && { url }), ...(headers && { headers }) }))],
      };
    case 'prometheus': {
      const prometheus = new PrometheusExporter({ preventServerStart: true });
      return {
        readers: [prometheus],
        prometheus: { exporter: prometheus, port: port ?? 9464, host, endpoint },
      };
    }
  }
  if (hasMethods(exporter, ['setMetricProducer', 'collect', 'shutdown', 'forceFlush'])) {
    return { readers: [exporter as IMetricReader] };
  }
  return choice(exporter, ['console', 'otlp', 'prometheus', 'none'], 'metrics', 'a MetricReader');
}

/** Validates `logs` and builds its processors. */
export function planLogs(value: unknown): LogRecordProcessor[] {
  const options = requireObject(value, 'logs');
  rejectUnknownKeys(options, ['exporter', 'url', 'headers'], 'logs');
  const url = optionalUrl(options.url, 'logs.url');
  const headers = optionalHeaders(options.headers, 'logs.headers');
  const { exporter } = options;
  if (exporter === 'none') return [];
  if (exporter === 'console')
    return [new SimpleLogRecordProcessor({ exporter: new ConsoleLogRecordExporter() })];
  if (exporter === 'otlp') {
    return [
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ ...(url && { url }), ...(headers && { headers }) }),
      }),
    ];
  }
  if (hasMethods(exporter, ['export', 'shutdown'])) {
    return [new BatchLogRecordProcessor({ exporter: exporter as LogRecordExporter })];
  }
  return choice(exporter, ['console', 'otlp', 'none'], 'logs', 'a LogRecordExporter');
}
