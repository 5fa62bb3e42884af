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
  type Histogram,
  metrics,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

const tracer = trace.getTracer('@ergon/tasks');

// Instruments are made from the meter provider registered now, and again if it
// changes: an SDK set up after this module loaded must still get the metrics.
let instruments: { provider: unknown; outcomes: Counter; durations: Histogram } | undefined;
function meterInstruments(): { outcomes: Counter; durations: Histogram } {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider === provider) return instruments;
  const meter = provider.getMeter('@ergon/tasks');
  instruments = {
    provider,
    outcomes: meter.createCounter('ergon.transactions', { description: 'Transactions by task and outcome' }),
    durations: meter.createHistogram('ergon.transaction.duration', {
      description: 'Lifecycle duration of a transaction',
      unit: 'ms',
    }),
  };
  return instruments;
}

/** Runs `fn` inside a new active span that ends with it, recording a thrown error. */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, parent, async (span) => {
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

/** The context a transaction's span continues: its `traceparent` if it carries one, else the active one. */
export function transactionParent(metadata: Readonly<Record<string, string>>): Context {
  if (metadata.traceparent === undefined) return context.active();
  const remote = propagation.extract(ROOT_CONTEXT, metadata);
  return trace.getSpanContext(remote) ? remote : context.active();
}

/** The active trace context as metadata (`traceparent`, `tracestate`) for a new transaction. */
export function traceMetadata(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Counts one finished lifecycle. Attributes are bounded: task name and status only. */
export function recordOutcome(task: string, status: string, durationMs: number): void {
  const attributes = { 'ergon.task.name': task, 'ergon.outcome': status };
  const { outcomes, durations } = meterInstruments();
  outcomes.add(1, attributes);
  durations.record(durationMs, attributes);
}

export { SpanStatusCode };
