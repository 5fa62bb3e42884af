/**
 * OpenTelemetry through the API only (DESIGN §4): spans `ergon.task` →
 * `ergon.batch` → `ergon.transaction` → `ergon.attempt`, and counters with
 * bounded attributes. Without an SDK installed all of it is a no-op.
 *
 * @module
 */
import {
  type Attributes,
  type Context,
  type Counter,
  context,
  createNoopMeter,
  type Histogram,
  INVALID_SPAN_CONTEXT,
  metrics,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

const tracer = trace.getTracer('@ergon/tasks');

/** The API's own no-op provider: the global provider's delegate while no SDK registered one. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
/** What span-taking callbacks get while tracing is off (it records nothing, like the no-op tracer's). */
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * False while no tracer provider is registered. Then a span would be the
 * no-op tracer's non-recording span, yet making it and an active context
 * for it cost about a microsecond per span, two per transaction: most of
 * the runner's time for fast work (DESIGN §1: without an SDK,
 * instrumentation costs nothing measurable). Looked up at every span, so a
 * provider registered later is used from then on.
 */
export function tracing(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_TRACER_PROVIDER;
}

// Instruments are made from the meter provider registered now, and again if it
// changes: an SDK set up after this module loaded must still get the metrics.
let instruments: { provider: unknown; noop: boolean; outcomes: Counter; durations: Histogram } | undefined;
function meterInstruments(): { noop: boolean; outcomes: Counter; durations: Histogram } {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider === provider) return instruments;
  const meter = provider.getMeter('@ergon/tasks');
  instruments = {
    provider,
    noop: meter === createNoopMeter(),
    outcomes: meter.createCounter('ergon.transactions', { description: 'Transactions by task and outcome' }),
    durations: meter.createHistogram('ergon.transaction.duration', {
      description: 'Lifecycle duration of a transaction',
      unit: 'ms',
    }),
  };
  return instruments;
}

/**
 * Runs `fn` inside a new active span that ends with it, recording a thrown
 * error. While tracing is off, `fn` runs in `parent` (if given) without a span.
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  parent?: Context,
): Promise<T> {
  if (!tracing()) {
    try {
      return parent === undefined ? fn(NO_SPAN) : context.with(parent, fn, undefined, NO_SPAN);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return tracer.startActiveSpan(name, { attributes }, parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The context a transaction's span continues: its `traceparent` if it carries one, else (undefined) the active one. */
export function transactionParent(metadata: Readonly<Record<string, string>>): Context | undefined {
  if (metadata.traceparent === undefined) return undefined;
  const remote = propagation.extract(ROOT_CONTEXT, metadata);
  return trace.getSpanContext(remote) ? remote : undefined;
}

/** The active trace context as metadata (`traceparent`, `tracestate`) for a new transaction. */
export function traceMetadata(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/**
 * True while a meter provider is registered (an SDK's, not the API's no-op
 * one): {@link recordOutcome} records then. For callers that end many
 * lifecycles at once and look once for all of them (the look goes through
 * the API's global registry and its version check each time).
 */
export function metering(): boolean {
  return !meterInstruments().noop;
}

// One attributes object per task and status (a bounded set), not one per transaction.
const outcomeAttributes = new Map<string, Map<string, Attributes>>();

/** Counts one finished lifecycle (nothing to do without a meter provider). Attributes are bounded: task name and status only. */
export function recordOutcome(task: string, status: string, durationMs: number): void {
  const { noop, outcomes, durations } = meterInstruments();
  if (noop) return;
  let byStatus = outcomeAttributes.get(task);
  if (!byStatus) {
    byStatus = new Map();
    outcomeAttributes.set(task, byStatus);
  }
  let attributes = byStatus.get(status);
  if (!attributes) {
    attributes = { 'ergon.task.name': task, 'ergon.outcome': status };
    byStatus.set(status, attributes);
  }
  outcomes.add(1, attributes);
  durations.record(durationMs, attributes);
}

export { SpanStatusCode };
