/**
 * Scheduling a flow: by definition or by type name, idempotent by flow id.
 *
 * @module
 */
import {
  type Clock,
  type Codec,
  type CreateClaim,
  type CreateFlowResult,
  type Duration,
  InvalidArgumentError,
  type RuntimeExecutionLog,
  toMillis,
  uuidv7,
  validateId,
} from '@ergon/core';
import { toFlowDefinition } from './decorators.js';
import { type FlowDefinition, validateName } from './definitions.js';
import { type FlowControlOptions, flowControlFields, keyOfInput } from './flow-control.js';
import { currentTraceContext, endSpan, startScheduleSpan } from './internal/telemetry.js';

/** Options of {@link Client.schedule}, with flow control ({@link FlowControlOptions}). */
export interface ScheduleOptions extends FlowControlOptions {
  /** Queue; default the definition's, or `'default'` when scheduling by type name. */
  readonly queue?: string;
  /** Idempotency: scheduling an existing id returns that flow, never a second one. Default a UUIDv7. */
  readonly flowId?: string;
  /** Not before this time. */
  readonly runAt?: Date | number;
  /** Not before this long from now. */
  readonly delay?: Duration;
  /** Higher runs first. Default 0. */
  readonly priority?: number;
  /** W3C `traceparent` to continue. */
  readonly traceContext?: string;
}

/**
 * What {@link Client.schedule} does, returning the flow as the store holds it and
 * whether this call created it (so the executor need not read it back); with
 * `claim`, a new flow due now comes back claimed. Internal: not exported from the
 * package.
 */
export async function scheduleFlow<I, O>(
  deps: { readonly store: RuntimeExecutionLog; readonly clock: Clock; readonly codec: Codec },
  definition: FlowDefinition<I, O> | string,
  input: NoInfer<I>,
  options: ScheduleOptions,
  claim?: CreateClaim,
): Promise<CreateFlowResult> {
  const { store, clock, codec } = deps;
  const def: Pick<FlowDefinition<I, O>, 'name' | 'options' | 'storeInput'> = typeof definition === 'string'
    ? { name: validateName(definition, 'flow type'), options: { queue: 'default' } }
    : (toFlowDefinition(definition) as FlowDefinition<I, O>);
  const flowId = options.flowId === undefined ? uuidv7(clock.now()) : validateId(options.flowId, 'flow id');
  const queue = validateName(options.queue ?? def.options.queue, 'queue name');
  const priority = options.priority ?? 0;
  if (!Number.isInteger(priority))
    throw new InvalidArgumentError(`priority must be an integer (got ${priority})`);
  const now = clock.now();
  let runAt = now;
  if (options.runAt !== undefined) runAt = toTime(options.runAt, 'runAt');
  if (options.delay !== undefined) runAt = now + toMillis(options.delay, 'delay');
  const stored = def.storeInput ? def.storeInput(input) : input;
  const encoded = codec.encode(stored, `input of flow ${flowId}`);
  const control = flowControlFields(def.name, options, {
    concurrencyKey:
      options.concurrencyKey === undefined
        ? keyOfInput(def.name, def.options.concurrencyKey, input)
        : undefined,
    concurrencyLimit: def.options.concurrencyLimit,
  });
  // An `ergon.schedule` span roots the flow's trace (under the caller's span,
  // if any); every run of the flow, on any worker, continues it.
  const scheduled = startScheduleSpan(flowId, def.name);
  try {
    const result = await store.createFlow({
      id: flowId,
      type: def.name,
      queue,
      input: encoded,
      priority,
      runAt,
      traceContext: options.traceContext ?? scheduled.traceContext ?? currentTraceContext(),
      now,
      ...control,
      ...(claim ? { claim } : {}),
    });
    endSpan(scheduled.span, result.created ? 'created' : 'existed');
    return result;
  } catch (error) {
    endSpan(scheduled.span, 'failed', error);
    throw error;
  }
}

/** A `Date` or epoch ms as epoch ms. @throws InvalidArgumentError for anything else. */
function toTime(value: unknown, what: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidArgumentError(
      `${what} must be a valid Date or epoch milliseconds (got ${typeof value === 'string' ? JSON.stringify(value) : String(value)})`,
    );
  }
  return ms;
}
