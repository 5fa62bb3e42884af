/**
 * The positions of one activation: each call of the flow code takes the next
 * one, checked against the recorded history (`history-cursor.ts`), and its
 * result comes back one of three ways: replayed from its record, in recording
 * order (`replay-order.ts`); live, counted as live work (`liveness.ts`); or
 * never, at the frontier of a replay-only run.
 *
 * Ordering rule that makes races deterministic: recorded results resolve in
 * microtasks, while live evaluation of waits (sleep, signal, child) is deferred
 * to a macrotask. So on replay every recorded winner of a `Promise.race`
 * resolves before a loser could be evaluated live.
 *
 * @module
 */
import type { OperationKind, OperationRecord } from '@ergon/core';
import { FlowCancelledError, NonDeterminismError } from '../errors.js';
import { HistoryCursor, type PatchState, type Slot } from './history-cursor.js';
import { afterTurn } from './next-turn.js';
import type { Liveness } from './liveness.js';
import { captureLocation } from './patches.js';
import { never, type Recorder } from './recorder.js';
import { ReplayOrder } from './replay-order.js';

/** What {@link Positions} needs of its activation. */
export interface PositionsOptions {
  readonly flowId: string;
  readonly history: readonly OperationRecord[];
  /** Replay only: an operation with no final record never runs (see `ActivationOptions`). */
  readonly replayOnly: boolean | undefined;
  readonly liveness: Liveness;
  readonly recorder: Recorder;
  /** True for a marker replay may pass over (a deprecated patch, a version marker). */
  readonly deprecated: (record: OperationRecord) => boolean;
  /** True once the activation ended. */
  readonly ended: () => boolean;
  /** Ends the activation on a fatal condition (non-determinism). */
  readonly fatal: (error: Error) => void;
  /** A recorded result, or its recorded error thrown. */
  readonly settle: <T>(record: OperationRecord) => Promise<T>;
}

/** Hands out positions and resolves the operations at them. */
export class Positions {
  readonly #options: PositionsOptions;
  readonly #cursor: HistoryCursor;
  readonly #replay: ReplayOrder;

  constructor(options: PositionsOptions) {
    this.#options = options;
    this.#cursor = new HistoryCursor(options.flowId, options.history, {
      deprecated: options.deprecated,
      skipped: (position) => this.#replay.skip(position),
    });
    this.#replay = new ReplayOrder(options.history, () => options.liveness.check());
  }

  /** True while the code replays recorded history (see `HistoryCursor.replaying`). */
  get replaying(): boolean {
    return this.#cursor.replaying;
  }

  /** The position after the last one the code called or passed over (see `HistoryCursor.next`). */
  get next(): number {
    return this.#cursor.next;
  }

  /** Takes the next position, checking it against history; a mismatch ends the activation. */
  take(kind: OperationKind, name: string): Slot {
    const { flowId, ended, fatal } = this.#options;
    if (ended()) throw new FlowCancelledError(flowId, 'the flow activation has ended');
    try {
      return this.#cursor.take(kind, name);
    } catch (error) {
      if (error instanceof NonDeterminismError) {
        captureLocation(error);
        fatal(error);
      }
      throw error;
    }
  }

  /** Takes the next position for a marker (`versions.ts`), unchecked for an ended activation. */
  takeMarker(name: string): Slot {
    return this.#cursor.take('patch', name);
  }

  /** Finds patch marker `name` (see `HistoryCursor.patch`). */
  patch(name: string): PatchState {
    return this.#cursor.patch(name);
  }

  /** The record at `position` will never be called (its DAG is replayed whole, a marker taken). */
  skip(position: number): void {
    this.#replay.skip(position);
  }

  /** Replayed results wait for their turn though nothing live is left: delivers them. False if none wait. */
  unstall(): boolean {
    if (!this.#replay.waiting) return false;
    this.#replay.unstall();
    return true;
  }

  /** The recorded result at `slot` when final; at the frontier nothing; else `evaluate()` now, live. */
  run<T>(slot: Slot, evaluate: () => Promise<T>): Promise<T> {
    if (slot.record && slot.record.status !== 'waiting') return this.replayed<T>(slot);
    if (this.#options.replayOnly) return this.frontier(slot);
    return this.#options.liveness.track(evaluate());
  }

  /** As {@link Positions.run}, with `evaluate` deferred a macrotask (see the module comment). */
  live<T>(slot: Slot, evaluate: () => Promise<T>): Promise<T> {
    const { ended } = this.#options;
    return this.run(slot, () =>
      afterTurn().then(() => (ended() ? never() : evaluate())),
    );
  }

  /** `ctx.now` / `ctx.random` / `ctx.uuid`: the recorded value, or `produce()` recorded. */
  async recorded<T>(kind: 'now' | 'random' | 'uuid', produce: () => T): Promise<T> {
    const slot = this.take(kind, kind);
    if (slot.record) return this.replayed<T>(slot);
    if (this.#options.replayOnly) return this.frontier(slot);
    const { recorder, liveness } = this.#options;
    return liveness.track(
      (async () => {
        const value = produce();
        await recorder.write(
          recorder.final(slot, kind, { result: recorder.encode(value, `result of ${slot.key}`) }),
        );
        return value;
      })(),
    );
  }

  /**
   * Replay only: the operation at `slot` has no final record, so it is not run. It waits for
   * good (a wait at its position, due never), after the recorded results already called.
   */
  frontier<T>(slot: Slot): Promise<T> {
    const { liveness } = this.#options;
    return liveness.track(
      afterTurn().then(() => {
        liveness.waitFor({ kind: 'timer', at: Number.MAX_SAFE_INTEGER, position: slot.position });
        return never();
      }),
    );
  }

  /** A recorded result, delivered in recording order (see `replay-order.ts`). */
  replayed<T>(slot: Slot): Promise<T> {
    const record = slot.record as OperationRecord;
    const { settle } = this.#options;
    return new Promise<T>((resolve, reject) => {
      this.#replay.deliver(slot.position, () => {
        try {
          settle<T>(record).then(resolve, reject);
        } catch (error) {
          reject(error);
        }
      });
    });
  }
}
