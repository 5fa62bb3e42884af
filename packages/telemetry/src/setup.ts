/**
 * `setupTelemetry`: installs the OpenTelemetry SDK for the whole process, so
 * the spans and metrics the Ergon libraries emit through `@opentelemetry/api`
 * are recorded and exported. Without it they are no-ops.
 *
 * @module
 */
import { hostname } from 'node:os';
import { ErgonError, ErrorCode, InvalidArgumentError } from '@ergon/core';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { type IMetricReader, MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { type PrometheusEndpoint, servePrometheus } from './internal/prometheus-server.js';
import { type MetricPlan, planLogs, planMetrics, planTraces, type TracePlan } from './internal/signals.js';
import { describe, isRecord, rejectUnknownKeys, requireName } from './internal/validate.js';

/** Traces: where finished spans go. */
export interface TracesOptions {
  /**
   * `'otlp'` (OTLP/HTTP JSON, batched), `'console'` (each span printed),
   * `'none'` (spans are made, so trace ids reach logs, but not exported),
   * or any `SpanExporter` (batched).
   */
  readonly exporter: 'console' | 'otlp' | 'none' | SpanExporter;
  /** OTLP endpoint. Default `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `http://localhost:4318/v1/traces`. */
  readonly url?: string;
  /** Extra HTTP headers for OTLP (e.g. an API key). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Fraction (0–1) of new traces sampled; a span with a parent follows its parent. Default 1. */
  readonly sampleRatio?: number;
}

/** Metrics: how they are read and exported. */
export interface MetricsOptions {
  /**
   * `'prometheus'` (a scrape endpoint), `'otlp'` or `'console'` (pushed every
   * `intervalMs`), `'none'` (recorded nowhere), or any `MetricReader`.
   */
  readonly exporter: 'console' | 'otlp' | 'prometheus' | 'none' | IMetricReader;
  /** Prometheus port; 0 picks a free one (see `Telemetry.prometheus.url`). Default 9464. */
  readonly port?: number;
  /** Prometheus listen address. Default every interface. */
  readonly host?: string;
  /** Prometheus path. Default `/metrics`. */
  readonly endpoint?: string;
  /** OTLP endpoint. Default `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` or `http://localhost:4318/v1/metrics`. */
  readonly url?: string;
  /** Extra HTTP headers for OTLP. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Push interval of `'otlp'` and `'console'`, in ms (≥ 100). Default 60 000. */
  readonly intervalMs?: number;
}

/** Logs: the global OpenTelemetry logger provider (used by the logger's `otlp` transport without a url). */
export interface LogsOptions {
  /** `'otlp'` (batched), `'console'`, `'none'`, or any `LogRecordExporter` (batched). */
  readonly exporter: 'console' | 'otlp' | 'none' | LogRecordExporter;
  /** OTLP endpoint. Default `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` or `http://localhost:4318/v1/logs`. */
  readonly url?: string;
  /** Extra HTTP headers for OTLP. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Options of {@link setupTelemetry}. A signal left out is not set up (it stays a no-op). */
export interface TelemetryOptions {
  /** `service.name` of every span, metric and log record. */
  readonly serviceName: string;
  /** `service.version`, when given. */
  readonly serviceVersion?: string;
  /** More resource attributes (e.g. `deployment.environment.name`). */
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
  /** Traces: their exporter and sampling. Left out: no tracer provider. */
  readonly traces?: TracesOptions;
  /** Metrics: their exporter or Prometheus endpoint. Left out: no meter provider. */
  readonly metrics?: MetricsOptions;
  /** The global OpenTelemetry logger provider (for OTLP log transports). Left out: none. */
  readonly logs?: LogsOptions;
}

/** The handle {@link setupTelemetry} returns. */
export interface Telemetry {
  /** The resource (service.name, host.name, process.pid, …) every signal carries. */
  readonly resource: Resource;
  /** Where Prometheus can scrape, when `metrics.exporter` is `'prometheus'`. */
  readonly prometheus?: {
    /** The scrape URL, e.g. `http://localhost:9464/metrics` (the real port when `port: 0`). */
    readonly url: string;
  };
  /** Exports everything buffered now (spans, pushed metrics, log records). */
  flush(): Promise<void>;
  /**
   * Flushes everything, stops the exporters and the Prometheus endpoint, and
   * unregisters the global providers, so the libraries are no-ops again and
   * `setupTelemetry` may be called anew. Idempotent.
   */
  shutdown(): Promise<void>;
}

let active = false;

/**
 * Registers, for the whole process, the tracer, meter and logger providers
 * asked for, the W3C trace-context and baggage propagators, and an
 * AsyncLocalStorage context manager (kept if one is already registered). The
 * resource carries `service.name`, `host.name` and `process.pid`.
 *
 * Rejects with `INVALID_ARGUMENT` for malformed options, when telemetry is
 * already set up (call `shutdown()` first), or when the Prometheus port is taken.
 */
export async function setupTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  if (!isRecord(options))
    throw new InvalidArgumentError(`setupTelemetry options must be an object, got ${describe(options)}`);
  rejectUnknownKeys(
    options,
    ['serviceName', 'serviceVersion', 'attributes', 'traces', 'metrics', 'logs'],
    'setupTelemetry options',
  );
  const serviceName = requireName(options.serviceName, 'serviceName');
  const serviceVersion =
    options.serviceVersion === undefined ? undefined : requireName(options.serviceVersion, 'serviceVersion');
  const attributes = options.attributes ?? {};
  if (
    !isRecord(attributes) ||
    !Object.values(attributes).every((v) => ['string', 'number', 'boolean'].includes(typeof v))
  ) {
    throw new InvalidArgumentError('attributes must be an object of string, number or boolean values');
  }
  const tracePlan: TracePlan | undefined =
    options.traces === undefined ? undefined : planTraces(options.traces);
  const metricPlan: MetricPlan | undefined =
    options.metrics === undefined ? undefined : planMetrics(options.metrics);
  const logProcessors = options.logs === undefined ? undefined : planLogs(options.logs);
  if (active) {
    throw new InvalidArgumentError(
      'telemetry is already set up in this process; call shutdown() on the first Telemetry before setting it up again',
      { details: { reason: 'already-set-up' } },
    );
  }
  // Claimed before the first await, so two concurrent calls cannot both proceed.
  active = true;

  const resource = defaultResource().merge(
    resourceFromAttributes({
      ...attributes,
      'service.name': serviceName,
      ...(serviceVersion === undefined ? {} : { 'service.version': serviceVersion }),
      'host.name': hostname(),
      'process.pid': process.pid,
    }),
  );
  const tracerProvider =
    tracePlan &&
    new BasicTracerProvider({
      resource,
      spanProcessors: tracePlan.processors,
      ...(tracePlan.sampler ? { sampler: tracePlan.sampler } : {}),
    });
  const meterProvider = metricPlan && new MeterProvider({ resource, readers: metricPlan.readers });
  const loggerProvider = logProcessors && new LoggerProvider({ resource, processors: logProcessors });

  const undo: (() => void)[] = [];
  const providersShutdown = () =>
    Promise.allSettled([tracerProvider?.shutdown(), meterProvider?.shutdown(), loggerProvider?.shutdown()]);
  const rollBack = async () => {
    for (const step of undo.reverse()) step();
    await providersShutdown();
    active = false;
  };

  const contextManager = new AsyncLocalStorageContextManager().enable();
  if (context.setGlobalContextManager(contextManager)) undo.push(() => context.disable());
  else contextManager.disable(); // keep the application's own context manager
  const propagator = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });
  if (propagation.setGlobalPropagator(propagator)) undo.push(() => propagation.disable());
  const conflicts: string[] = [];
  if (tracerProvider) {
    if (trace.setGlobalTracerProvider(tracerProvider)) undo.push(() => trace.disable());
    else conflicts.push('tracer');
  }
  if (meterProvider) {
    if (metrics.setGlobalMeterProvider(meterProvider)) undo.push(() => metrics.disable());
    else conflicts.push('meter');
  }
  if (loggerProvider) {
    if (logs.setGlobalLoggerProvider(loggerProvider) === loggerProvider) undo.push(() => logs.disable());
    else conflicts.push('logger');
  }
  if (conflicts.length > 0) {
    await rollBack();
    throw new InvalidArgumentError(
      `another OpenTelemetry ${conflicts.join(' and ')} provider is already registered in this process; ` +
        'let setupTelemetry be the only SDK set-up, or shut the other one down first',
      { details: { reason: 'already-registered', signals: conflicts } },
    );
  }

  let endpoint: PrometheusEndpoint | undefined;
  if (metricPlan?.prometheus) {
    try {
      endpoint = await servePrometheus(metricPlan.prometheus);
    } catch (error) {
      await rollBack();
      throw error;
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    resource,
    ...(endpoint ? { prometheus: { url: endpoint.url } } : {}),
    async flush() {
      await Promise.all([
        tracerProvider?.forceFlush(),
        meterProvider?.forceFlush(),
        loggerProvider?.forceFlush(),
      ]);
    },
    shutdown() {
      stopping ??= (async () => {
        // Providers flush on shutdown; the endpoint closes after its last scrape.
        const results = [...(await providersShutdown()), ...(await Promise.allSettled([endpoint?.close()]))];
        for (const step of undo.reverse()) step();
        active = false;
        const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failure) {
          throw new ErgonError(
            ErrorCode.INTERNAL,
            'telemetry shut down, but some data could not be flushed',
            {
              cause: failure.reason,
            },
          );
        }
      })();
      return stopping;
    },
  };
}
