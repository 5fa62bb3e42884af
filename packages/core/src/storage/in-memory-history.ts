/**
 * The in-memory store's history records and buffered signals, by flow: first
 * write wins per position (a `waiting` record may be replaced), signals kept
 * in the order they were sent, numbered by one sequence.
 *
 * @module
 */
import type { EveryField } from './in-memory-state.js';
import type { OperationRecord, SignalRecord } from './records.js';

/** Histories and signal buffers of every flow of one in-memory store. */
export class MemoryHistory {
  readonly #records = new Map<string, Map<number, OperationRecord>>();
  readonly #signals = new Map<string, SignalRecord[]>();
  #seq = 0;

  /** The next signal sequence number (also for imported signals). */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** The flow's records by position. */
  records(flowId: string): OperationRecord[] {
    const history = this.#records.get(flowId);
    return history ? [...history.values()].sort((a, b) => a.position - b.position) : [];
  }

  /** The record at `position`, if any. */
  at(flowId: string, position: number): OperationRecord | undefined {
    return this.#records.get(flowId)?.get(position);
  }

  /** Writes `record` unless a final one holds its position; returns what is stored. */
  write(record: OperationRecord): { record: OperationRecord; existed: boolean } {
    let history = this.#records.get(record.flowId);
    if (!history) {
      history = new Map();
      this.#records.set(record.flowId, history);
    }
    const existing = history.get(record.position);
    if (existing && existing.status !== 'waiting') return { record: existing, existed: true };
    const stored = storedCopy(record);
    history.set(record.position, stored);
    return { record: stored, existed: false };
  }

  /** The flow's buffered signals, oldest first (the live list: read, do not change). */
  pending(flowId: string): readonly SignalRecord[] {
    return this.#signals.get(flowId) ?? [];
  }

  /** Buffers a signal. */
  send(flowId: string, name: string, payload: string, now: number): void {
    const queue = this.#signals.get(flowId) ?? [];
    queue.push({ flowId, seq: this.nextSeq(), name, payload, sentAt: now });
    this.#signals.set(flowId, queue);
  }

  /** Takes the oldest buffered signal `name`, if any. */
  take(flowId: string, name: string): SignalRecord | undefined {
    const queue = this.#signals.get(flowId) ?? [];
    const index = queue.findIndex((s) => s.name === name);
    return index < 0 ? undefined : queue.splice(index, 1)[0];
  }

  /** Sets an imported flow's history and signals. */
  restore(flowId: string, records: Map<number, OperationRecord>, signals: SignalRecord[]): void {
    this.#records.set(flowId, records);
    if (signals.length > 0) this.#signals.set(flowId, signals);
  }

  /** Forgets the flow (purge). */
  delete(flowId: string): void {
    this.#records.delete(flowId);
    this.#signals.delete(flowId);
  }
}

/**
 * A frozen copy of `record` with every field of the type (absent ones undefined), made as one
 * literal: V8 freezes an object of one fixed shape along a transition it keeps, where freezing a
 * spread copy (`{ ...record }`) built a new hidden class each time, ~1 µs per step recorded.
 */
function storedCopy(record: OperationRecord): OperationRecord {
  return Object.freeze({
    flowId: record.flowId,
    position: record.position,
    key: record.key,
    kind: record.kind,
    status: record.status,
    attempts: record.attempts,
    result: record.result,
    error: record.error,
    wakeAt: record.wakeAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    seq: record.seq,
  } satisfies EveryField<OperationRecord>);
}
