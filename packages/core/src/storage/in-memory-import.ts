/**
 * The in-memory store's import (`import-flow.ts`): the state an imported flow
 * starts with, copied so the caller's objects are never shared.
 *
 * @module
 */
import type { ImportFlowRequest } from './import-flow.js';
import type { FlowRecord, OperationRecord, SignalRecord } from './records.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The flow record, history and signals of an import; `nextSeq` numbers the signals. */
export function importedState(
  request: ImportFlowRequest,
  nextSeq: () => number,
): { flow: Mutable<FlowRecord>; history: Map<number, OperationRecord>; signals: SignalRecord[] } {
  const { damage: _damage, ...stored } = request.flow;
  const flow: Mutable<FlowRecord> = { ...stored, waits: request.flow.waits.map((w) => ({ ...w })) };
  const history = new Map<number, OperationRecord>(
    request.history.map((r) => [r.position, Object.freeze({ ...r })] as const),
  );
  const signals = request.signals.map(
    (s): SignalRecord => ({
      flowId: flow.id,
      seq: nextSeq(),
      name: s.name,
      payload: s.payload,
      sentAt: s.sentAt,
    }),
  );
  return { flow, history, signals };
}
