/**
 * The operations that may wait: a durable timer, a signal (with an optional
 * timeout) and a child flow. Each is evaluated live only when history has no
 * final record for it; it either records its result at once or registers a
 * wait, after which the activation can suspend.
 *
 * @module
 */
import { isTerminalStatus, type OperationRecord } from '@ergon/core';
import type { ChildOptions } from '../context.js';
import type { FlowDefinition } from '../definitions.js';
import { ChildFlowFailedError, SignalTimeoutError } from '../errors.js';
import type { ActivationOptions } from './activation-types.js';
import type { Slot } from './history-cursor.js';
import type { Liveness } from './liveness.js';
import { never, type Recorder } from './recorder.js';
import { Attr, instruments } from './telemetry.js';

/** What waiting operations need from their activation. */
export interface WaitHost {
  readonly flowId: string;
  readonly flowType: string;
  readonly options: ActivationOptions;
  readonly recorder: Recorder;
  readonly liveness: Liveness;
  settle<T>(record: OperationRecord): Promise<T>;
  decode(text: string, what: string): unknown;
  /** The store reported a cancel request. */
  cancel(reason: string): void;
}

/** A durable timer due at `wakeAt()` (computed once, then taken from its waiting record). */
export async function sleepUntilDue(host: WaitHost, slot: Slot, wakeAt: () => number): Promise<void> {
  const { recorder, options } = host;
  const at = slot.record?.wakeAt ?? wakeAt();
  const now = options.clock.now();
  if (now >= at) {
    if (slot.record && options.telemetry.metrics) {
      instruments().timerLateness.record(now - at, { [Attr.flowType]: host.flowType });
    }
    await recorder.write(recorder.final(slot, 'sleep', { result: recorder.encode(undefined, 'sleep') }));
    return;
  }
  if (!slot.record) await recorder.write(recorder.waiting(slot, 'sleep', at));
  host.liveness.waitFor({ kind: 'timer', at, position: slot.position });
  return never();
}

/** The oldest buffered signal `name`, or a wait for one (and for its timeout). */
export async function receiveSignal<T>(
  host: WaitHost,
  slot: Slot,
  name: string,
  timeoutMs: number | undefined,
): Promise<T> {
  const { recorder, options } = host;
  const consumed = await consumeSignal(host, slot, name);
  if (consumed) return host.settle<T>(consumed);
  if (timeoutMs !== undefined) {
    const deadline = slot.record?.wakeAt ?? options.clock.now() + timeoutMs;
    if (options.clock.now() >= deadline) {
      const error = new SignalTimeoutError(name, timeoutMs);
      return host.settle<T>(await recorder.write(recorder.final(slot, 'signal', { failed: true, error })));
    }
    if (!slot.record) await recorder.write(recorder.waiting(slot, 'signal', deadline));
    host.liveness.waitFor({ kind: 'timer', at: deadline, position: slot.position });
  }
  host.liveness.waitFor({ kind: 'signal', name, position: slot.position });
  return never();
}

/** The child flow `childId` (created once), its outcome when finished, or a wait for it. */
export async function awaitChild<I, O>(
  host: WaitHost,
  slot: Slot,
  child: { readonly id: string; readonly definition: FlowDefinition<I, O>; readonly input: I },
  childOptions: ChildOptions,
): Promise<O> {
  const { store, clock, codec, flow } = host.options;
  const { recorder } = host;
  const { id, definition } = child;
  let record = await recorder.call(() => store.getFlow(id));
  if (!record) {
    const stored = definition.storeInput ? definition.storeInput(child.input) : child.input;
    let encoded: string;
    try {
      encoded = codec.encode(stored, `input of child flow ${id}`);
    } catch (error) {
      return host.settle<O>(await recorder.write(recorder.final(slot, 'child', { failed: true, error })));
    }
    const created = await recorder.call(() =>
      store.createFlow({
        id,
        type: definition.name,
        queue: childOptions.queue ?? definition.options.queue,
        input: encoded,
        priority: childOptions.priority ?? flow.priority,
        runAt: clock.now(),
        parentId: flow.id,
        traceContext: flow.traceContext,
        now: clock.now(),
      }),
    );
    record = created.flow;
  }
  if (isTerminalStatus(record.status)) {
    if (record.status === 'completed') {
      const result = record.result ?? codec.encode(undefined);
      return host.settle<O>(await recorder.write(recorder.final(slot, 'child', { result })));
    }
    const cause = record.error ? host.decode(record.error, `error of child ${id}`) : undefined;
    const error = new ChildFlowFailedError(id, record.status, cause);
    return host.settle<O>(await recorder.write(recorder.final(slot, 'child', { failed: true, error })));
  }
  // A waiting record shows the child in the parent's history while it runs.
  if (!slot.record) await recorder.write(recorder.waiting(slot, 'child', undefined));
  host.liveness.waitFor({ kind: 'child', flowId: id, position: slot.position });
  return never();
}

/** Pops a buffered signal into the record at `slot`; undefined when none is buffered. */
async function consumeSignal(host: WaitHost, slot: Slot, name: string): Promise<OperationRecord | undefined> {
  const { recorder, flowId } = host;
  const { store, clock, token } = host.options;
  // recorder.call sends deferred records first.
  const consumed = await recorder.call(() =>
    store.consumeSignal({
      flowId,
      token,
      name,
      record: {
        flowId,
        position: slot.position,
        key: slot.key,
        kind: 'signal',
        attempts: 1,
        startedAt: slot.record?.startedAt ?? clock.now(),
        finishedAt: clock.now(),
        seq: recorder.nextSeq(),
      },
    }),
  );
  if (consumed?.cancelRequested) host.cancel('cancellation requested');
  return consumed?.record;
}
