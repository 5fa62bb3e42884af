/**
 * Instrumentation through `@opentelemetry/api` only (DESIGN §4). Without an
 * SDK installed (e.g. by `@ergon/telemetry`) every call here is a no-op.
 *
 * Spans: `ergon.flow` (one per run of a claimed flow, parented on the trace
 * context stored with the flow, so every resume on any worker joins one trace)
 * → `ergon.step` → `ergon.attempt`. Metric attributes are bounded: flow type
 * (a name from code) and an outcome from a fixed set; never ids or keys.
 *
 * @module
 */
import {
  type Attributes,
  type Context,
  context,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type UpDownCounter,
} from '@opentelemetry/api';

const SCOPE = '@ergon/executor';

/** The tracer; a proxy, so an SDK registered later is picked up. */
export const tracer = trace.getTracer(SCOPE);

/** Attribute names (DESIGN §4). */
export const Attr = {
  flowId: 'ergon.flow.id',
  flowType: 'ergon.flow.type',
  stepKey: 'ergon.step.key',
  attempt: 'ergon.attempt',
  workerId: 'ergon.worker.id',
  outcome: 'ergon.outcome',
} as const;

/** The instruments, with their fixed attribute keys (tests check these sets). */
export interface ExecutorInstruments {
  /** Runs of flows that left a worker, by `ergon.flow.type`, `ergon.outcome`. */
  readonly flowRuns: Counter;
  /** Duration of a run of a flow on a worker (ms), by `ergon.flow.type`, `ergon.outcome`. */
  readonly flowRunDuration: Histogram;
  /** Flows running on this process now, by `ergon.flow.type`. */
  readonly activeFlows: UpDownCounter;
  /** Steps that finished, by `ergon.flow.type`, `ergon.outcome` (`completed`, `failed`). */
  readonly steps: Counter;
  /** Step duration across attempts (ms), by `ergon.flow.type`, `ergon.outcome`. */
  readonly stepDuration: Histogram;
  /** Retried attempts, by `ergon.flow.type`. */
  readonly retries: Counter;
  /** How late a durable timer resumed its flow (ms), by `ergon.flow.type`. */
  readonly timerLateness: Histogram;
}

let cached: { provider: MeterProvider; instruments: ExecutorInstruments } | undefined;

/** The instruments of the current global meter provider (re-made if it changed). */
export function instruments(): ExecutorInstruments {
  const provider = metrics.getMeterProvider();
  if (cached?.provider === provider) return cached.instruments;
  const meter: Meter = provider.getMeter(SCOPE);
  const made: ExecutorInstruments = {
    flowRuns: meter.createCounter('ergon.flow.runs', {
      description: 'Runs of flows that left a worker, by outcome',
    }),
    flowRunDuration: meter.createHistogram('ergon.flow.run.duration', {
      unit: 'ms',
      description: 'Duration of one run of a flow',
    }),
    activeFlows: meter.createUpDownCounter('ergon.flows.active', {
      description: 'Flows running in this process',
    }),
    steps: meter.createCounter('ergon.steps', { description: 'Steps finished, by outcome' }),
    stepDuration: meter.createHistogram('ergon.step.duration', {
      unit: 'ms',
      description: 'Step duration across attempts',
    }),
    retries: meter.createCounter('ergon.step.retries', { description: 'Step attempts that were retried' }),
    timerLateness: meter.createHistogram('ergon.timer.lateness', {
      unit: 'ms',
      description: 'Lateness of durable timers',
    }),
  };
  cached = { provider, instruments: made };
  return made;
}

/**
 * Observes `ergon.queue.depth` (flows ready to run, by `ergon.queue`, capped at
 * 1,000 per queue) for a worker's queues while metrics are on. Returns a
 * function that stops observing.
 */
export function observeQueueDepth(
  queues: readonly string[],
  count: (queue: string) => Promise<number>,
): () => void {
  if (!telemetryState().metrics) return () => {};
  const gauge = metrics
    .getMeterProvider()
    .getMeter(SCOPE)
    .createObservableGauge('ergon.queue.depth', {
      description: 'Flows waiting to run, by queue (capped at 1,000)',
    });
  const callback = async (result: { observe(value: number, attributes: Attributes): void }) => {
    for (const queue of queues) {
      try {
        result.observe(await count(queue), { 'ergon.queue': queue });
      } catch {
        // the store is unreachable: no sample this time
      }
    }
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}

/** Which signals have an SDK behind them; checked once per flow run. */
export interface TelemetryState {
  readonly tracing: boolean;
  readonly metrics: boolean;
}

const isNoop = (provider: unknown): boolean => {
  const name = (provider as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  return name === 'NoopTracerProvider' || name === 'NoopMeterProvider';
};

/**
 * Whether an SDK is registered for traces and for metrics. With neither, the
 * engine skips instrumentation entirely, so it costs nothing measurable.
 */
export function telemetryState(): TelemetryState {
  const tracerProvider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const tracers = tracerProvider.getDelegate ? tracerProvider.getDelegate() : tracerProvider;
  const meters = metrics.getMeterProvider();
  // Looked at for every flow run: the answer is kept while the providers stay the same.
  if (known && known.tracers === tracers && known.meters === meters) return known.state;
  const state = Object.freeze({ tracing: !isNoop(tracers), metrics: !isNoop(meters) });
  known = { tracers, meters, state };
  return state;
}

/** The providers {@link telemetryState} last looked at, and its answer. */
let known: { tracers: unknown; meters: unknown; state: TelemetryState } | undefined;

/** State used when telemetry is off: no spans, no metrics. */
export const TELEMETRY_OFF: TelemetryState = Object.freeze({ tracing: false, metrics: false });

/** A span that records nothing, for when tracing is off. */
export const NO_SPAN: { span: Span; context: Context } = {
  span: trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }),
  context: ROOT_CONTEXT,
};

/** The W3C `traceparent` of the active context, to store with a new flow. */
export function currentTraceContext(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** Starts the `ergon.schedule` span of a new flow (a no-op span when tracing is off). */
export function startScheduleSpan(
  flowId: string,
  flowType: string,
): { span: Span; traceContext: string | undefined } {
  if (!telemetryState().tracing) return { span: NO_SPAN.span, traceContext: undefined };
  const active = context.active();
  const span = tracer.startSpan(
    'ergon.schedule',
    { kind: SpanKind.PRODUCER, attributes: { [Attr.flowId]: flowId, [Attr.flowType]: flowType } },
    active,
  );
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(active, span), carrier);
  return { span, traceContext: carrier.traceparent };
}

/** Starts the `ergon.flow` span of one run, continuing the flow's stored trace. */
export function startFlowSpan(options: {
  flowId: string;
  flowType: string;
  workerId: string;
  traceContext: string | undefined;
}): { span: Span; context: Context } {
  const parent = options.traceContext
    ? propagation.extract(ROOT_CONTEXT, { traceparent: options.traceContext })
    : ROOT_CONTEXT;
  const span = tracer.startSpan(
    'ergon.flow',
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [Attr.flowId]: options.flowId,
        [Attr.flowType]: options.flowType,
        [Attr.workerId]: options.workerId,
      },
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a span with an outcome; errors are recorded as exceptions. */
export function endSpan(span: Span, outcome: string, error?: unknown): void {
  if (!span.isRecording()) {
    span.end();
    return;
  }
  span.setAttribute(Attr.outcome, outcome);
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  span.end();
}

/** Starts a child span of `parent`. */
export function startChildSpan(
  name: string,
  parent: Context,
  attributes: Attributes,
): { span: Span; context: Context } {
  const span = tracer.startSpan(name, { attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}
