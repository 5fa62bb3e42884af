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
import type { Codec, OperationKind, OperationRecord } from '@ergon/core';
import { FlowCancelledError, NonDeterminismError } from '../errors.js';
import { type CursorHooks, HistoryCursor, type PatchState, type Slot } from './history-cursor.js';
import type { Liveness } from './liveness.js';
import { afterTurn } from './next-turn.js';
import { captureLocation, isDeprecatedMarker } from './patches.js';
import { never, type Recorder } from './recorder.js';
import { ReplayOrder } from './replay-order.js';
import { isVersionMarker } from './versions.js';

/** What {@link Positions} needs of its activation. */
export interface PositionsHost {
  readonly flowId: string;
  readonly options: {
    readonly history: readonly OperationRecord[];
    /** Replay only: an operation with no final record never runs (see `ActivationOptions`). */
    readonly replayOnly?: boolean | undefined;
    readonly codec: Codec;
  };
  readonly liveness: Liveness;
  readonly recorder: Recorder;
  /** True once the activation ended. */
  ended(): boolean;
  /** Ends the activation on a fatal condition (non-determinism). */
  fatal(error: Error): void;
  /** A recorded result, or its recorded error thrown. */
  settle<T>(record: OperationRecord): Promise<T>;
}

/** Hands out positions and resolves the operations at them. */
export class Positions implements CursorHooks {
  readonly #host: PositionsHost;
  readonly #cursor: HistoryCursor;
  readonly #replay: ReplayOrder;

  /** `host` is the activation (no hooks made for each). */
  constructor(host: PositionsHost) {
    this.#host = host;
    const { history } = host.options;
    this.#cursor = new HistoryCursor(host.flowId, history, this);
    this.#replay = new ReplayOrder(history, host.liveness);
  }

  /** A marker replay may pass over: a deprecated patch's, or a version marker (see `versions.ts`). */
  deprecated(record: OperationRecord): boolean {
    return isVersionMarker(record) || isDeprecatedMarker(this.#host.options.codec, record);
  }

  /** A deprecated marker at `position` was passed over: it is never delivered. */
  skipped(position: number): void {
    this.#replay.skip(position);
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
    const host = this.#host;
    if (host.ended()) throw new FlowCancelledError(host.flowId, 'the flow activation has ended');
    try {
      return this.#cursor.take(kind, name);
    } catch (error) {
      if (error instanceof NonDeterminismError) {
        captureLocation(error);
        host.fatal(error);
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
    return this.resolved<T>(slot) ?? this.#host.liveness.track(evaluate());
  }

  /**
   * How {@link Positions.run} resolves `slot` without running it (replayed, or at the frontier);
   * undefined when it runs live. For callers that run it without a closure made per call.
   */
  resolved<T>(slot: Slot): Promise<T> | undefined {
    if (slot.record && slot.record.status !== 'waiting') return this.replayed<T>(slot);
    if (this.#host.options.replayOnly) return this.frontier(slot);
    return undefined;
  }

  /** As {@link Positions.run}, with `evaluate` deferred a macrotask (see the module comment). */
  live<T>(slot: Slot, evaluate: () => Promise<T>): Promise<T> {
    const host = this.#host;
    return this.run(slot, () => afterTurn().then(() => (host.ended() ? never() : evaluate())));
  }

  /** `ctx.now` / `ctx.random` / `ctx.uuid`: the recorded value, or `produce()` recorded. */
  async recorded<T>(kind: 'now' | 'random' | 'uuid', produce: () => T): Promise<T> {
    const slot = this.take(kind, kind);
    if (slot.record) return this.replayed<T>(slot);
    if (this.#host.options.replayOnly) return this.frontier(slot);
    const { recorder, liveness } = this.#host;
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
    const { liveness } = this.#host;
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
    const host = this.#host;
    const replay = this.#replay;
    if (replay.due(slot.position)) {
      // Its turn has come (code replaying in recording order): settled here, with no promise and
      // closures of its own; the turns after it follow.
      let settled: Promise<T>;
      try {
        settled = host.settle<T>(record);
      } catch (error) {
        settled = Promise.reject(error);
      }
      replay.delivered(slot.position);
      return settled;
    }
    return new Promise<T>((resolve, reject) => {
      replay.deliver(slot.position, () => {
        try {
          host.settle<T>(record).then(resolve, reject);
        } catch (error) {
          reject(error);
        }
      });
    });
  }
}
