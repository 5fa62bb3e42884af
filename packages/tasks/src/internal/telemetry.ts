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
  context,
  metrics,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

const tracer = trace.getTracer('@ergon/tasks');
const meter = metrics.getMeter('@ergon/tasks');
const outcomes = meter.createCounter('ergon.transactions', {
  description: 'Transactions by task and outcome',
});
const durations = meter.createHistogram('ergon.transaction.duration', {
  description: 'Lifecycle duration of a transaction',
  unit: 'ms',
});

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
  outcomes.add(1, attributes);
  durations.record(durationMs, attributes);
}

export { SpanStatusCode };
