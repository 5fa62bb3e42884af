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

/** How {@link HistoryCursor.patch} found the patch: see its doc. */
export type PatchState =
  | { readonly state: 'marked'; readonly slot: Slot }
  | { readonly state: 'fresh'; readonly slot: Slot }
  | { readonly state: 'absent' };

/** What the cursor asks of its activation about patch markers. */
export interface CursorHooks {
  /** True for a marker written by `ctx.deprecatePatch`: replay may pass over it. */
  deprecated(record: OperationRecord): boolean;
  /** A deprecated marker at `position` was passed over (it will never be delivered). */
  skipped(position: number): void;
}

/** Positions and keys of one activation. */
export class HistoryCursor {
  readonly #flowId: string;
  readonly #hooks: CursorHooks | undefined;
  /** Recorded operations by position; none for an empty history (a flow's first run). */
  readonly #records: Map<number, OperationRecord> | undefined;
  /**
   * Calls so far of each name: the first name's count kept in fields, a map made only when a
   * second name is called (a one-step flow makes none).
   */
  #firstName: string | undefined;
  #firstCount = 0;
  #counts: Map<string, number> | undefined;
  /** The highest recorded position, -1 for none. */
  readonly #last: number;
  #next = 0;

  constructor(flowId: string, history: readonly OperationRecord[], hooks?: CursorHooks) {
    this.#flowId = flowId;
    let last = -1;
    let markers = false;
    const records = history.length > 0 ? new Map<number, OperationRecord>() : undefined;
    this.#records = records;
    for (const record of history) {
      records?.set(record.position, record);
      if (record.position > last) last = record.position;
      if (record.kind === 'patch') markers = true;
    }
    // Only a history with markers has any to pass over: the common path skips the look.
    this.#hooks = markers ? hooks : undefined;
    this.#last = last;
  }

  /**
   * True while the code replays recorded history: it has not yet called the operation at the
   * highest recorded position. What it does meanwhile it did when it first ran.
   */
  get replaying(): boolean {
    return this.#next <= this.#last;
  }

  /** The next position to hand out: every recorded position below it was called or passed over. */
  get next(): number {
    return this.#next;
  }

  /**
   * Takes the next position for an operation of `kind` named `name`.
   * @throws NonDeterminismError when history recorded another operation there.
   */
  take(kind: OperationKind, name: string): Slot {
    const n = this.#count(name);
    const key = operationKey(name, n);
    this.#passDeprecated(kind, key);
    const position = this.#next++;
    this.#counted(name, n + 1);
    const record = this.#records?.get(position);
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

  /**
   * The patch named `name` (`patch:<id>`), as Temporal's `patched` sees it: `marked` when
   * history holds its marker at the next position (taken), `fresh` when the code runs past the
   * recorded history (the position is taken: write the marker), `absent` when the history was
   * recorded by code without the patch (no position is taken: the old branch runs).
   */
  patch(name: string): PatchState {
    const key = operationKey(name, this.#count(name));
    this.#passDeprecated('patch', key);
    const record = this.#records?.get(this.#next);
    if (record?.kind === 'patch' && record.key === key)
      return { state: 'marked', slot: this.take('patch', name) };
    if (this.#next <= this.#last) return { state: 'absent' };
    return { state: 'fresh', slot: this.take('patch', name) };
  }

  /** Calls of `name` so far. */
  #count(name: string): number {
    if (name === this.#firstName) return this.#firstCount;
    return this.#counts?.get(name) ?? 0;
  }

  /** `name` has been called `n` times. */
  #counted(name: string, n: number): void {
    if (this.#firstName === undefined || name === this.#firstName) {
      this.#firstName = name;
      this.#firstCount = n;
      return;
    }
    this.#counts ??= new Map();
    this.#counts.set(name, n);
  }

  /** Passes over deprecated patch markers that the call of `kind`/`key` is not. */
  #passDeprecated(kind: OperationKind, key: string): void {
    const hooks = this.#hooks;
    if (!hooks) return;
    for (;;) {
      const record = this.#records?.get(this.#next);
      if (record?.kind !== 'patch' || (kind === 'patch' && record.key === key) || !hooks.deprecated(record))
        return;
      hooks.skipped(this.#next);
      this.#next++;
    }
  }
}
