/**
 * The history cursor: hands out positions in call order, builds each
 * operation's key (`name#n`, `n` counting earlier calls of the same name) and
 * checks it against what history recorded at that position. A mismatch is a
 * `NonDeterminismError` naming both sides in the format of history entries.
 *
 * @module
 */
import type { OperationKind, OperationRecord } from '@ergon/core';
import { NonDeterminismError } from '../errors.js';

/** One operation's place in the history, and what was recorded there. */
export interface Slot {
  readonly position: number;
  readonly key: string;
  readonly record: OperationRecord | undefined;
}

/** The history key of the `n`-th call (from 0) of an operation named `name`. */
export function operationKey(name: string, n: number): string {
  return `${name}#${n}`;
}

/** Positions and keys of one activation. */
export class HistoryCursor {
  readonly #flowId: string;
  readonly #records = new Map<number, OperationRecord>();
  readonly #counts = new Map<string, number>();
  /** The highest recorded position, -1 for none. */
  readonly #last: number;
  #next = 0;

  constructor(flowId: string, history: readonly OperationRecord[]) {
    this.#flowId = flowId;
    let last = -1;
    for (const record of history) {
      this.#records.set(record.position, record);
      if (record.position > last) last = record.position;
    }
    this.#last = last;
  }

  /**
   * True while the code replays recorded history: it has not yet called the operation at the
   * highest recorded position. What it does meanwhile it did when it first ran.
   */
  get replaying(): boolean {
    return this.#next <= this.#last;
  }

  /**
   * Takes the next position for an operation of `kind` named `name`.
   * @throws NonDeterminismError when history recorded another operation there.
   */
  take(kind: OperationKind, name: string): Slot {
    const position = this.#next++;
    const n = this.#counts.get(name) ?? 0;
    this.#counts.set(name, n + 1);
    const key = operationKey(name, n);
    const record = this.#records.get(position);
    if (record && (record.key !== key || record.kind !== kind)) {
      throw new NonDeterminismError({
        flowId: this.#flowId,
        position,
        recordedKey: record.key,
        recordedKind: record.kind,
        calledKey: key,
        calledKind: kind,
      });
    }
    return { position, key, record };
  }
}
