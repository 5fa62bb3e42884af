/**
 * Liveness and suspension: counts an activation's live operations (steps
 * running, writes in flight) and the waits of those that can only wait. When
 * nothing live is left, the activation either unstalls its replay order or
 * suspends on every pending wait at once. Also counts running step attempts
 * (user code), so a cancelled flow ends as soon as they have settled.
 *
 * @module
 */
import type { Wait } from '@ergon/core';
import { nextTurn, type TurnTask } from './next-turn.js';

/** What {@link Liveness} reports to its activation. */
export interface LivenessHooks {
  /** True once the activation ended. */
  ended(): boolean;
  /** Nothing live is left but replayed results wait for their turn: unstall them. */
  stalled(): boolean;
  /** Nothing live is left and some operations wait: suspend on `waits`. */
  blocked(waits: readonly Wait[]): void;
}

/** What a liveness answers to once its activation ended ({@link Liveness.detach}). */
const ENDED_HOOKS: LivenessHooks = {
  ended: () => true,
  stalled: () => false,
  blocked: () => {},
};

/** Live work and waits of one activation. */
export class Liveness implements TurnTask {
  #hooks: LivenessHooks;
  /** Made at the first wait: most activations never wait. */
  #waits: Wait[] | undefined;
  #active = 0;
  #attempts = 0;
  #attemptsSettled: (() => void) | undefined;
  #checkScheduled = false;

  /** `hooks` is the activation (no hooks made for each). */
  constructor(hooks: LivenessHooks) {
    this.#hooks = hooks;
  }

  /**
   * The activation ended: let go of it and the waits (see `Recorder.detach`: a liveness check
   * waiting in the next turn's queue would keep the activation until the event loop turns).
   */
  detach(): void {
    this.#hooks = ENDED_HOOKS;
    this.#waits = undefined;
  }

  /** Live operations still running (steps, writes). */
  get active(): number {
    return this.#active;
  }

  /** Counts `work` as live until it settles or turns into a wait. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#active++;
    return this.handOver(work);
  }

  /**
   * A live operation starts that says itself when it ends ({@link Liveness.left}) or what it goes
   * on as ({@link Liveness.handOver}): a step's first attempt, with no reaction on its promise.
   */
  entered(): void {
    this.#active++;
  }

  /** The operation counted by {@link Liveness.entered} has ended. */
  left(): void {
    this.#active--;
    this.check();
  }

  /** The operation counted by {@link Liveness.entered} goes on as `work`: counted until it settles. */
  handOver<T>(work: Promise<T>): Promise<T> {
    // A promise settles once: one shared handler does for every operation.
    work.then(this.#untrack, this.#untrack);
    return work;
  }

  readonly #untrack = (): void => {
    this.#active--;
    this.check();
  };

  /** The operation that registered `wait` will not settle in this activation. */
  waitFor(wait: Wait): void {
    this.#waits ??= [];
    this.#waits.push(wait);
    this.#active--;
    this.check();
  }

  /** A step attempt (user code) started. Pair with {@link Liveness.attemptEnded}. */
  attemptStarted(): void {
    this.#attempts++;
  }

  /** A step attempt settled. */
  attemptEnded(): void {
    this.#attempts--;
    if (this.#attempts === 0 && this.#attemptsSettled) {
      this.#attemptsSettled();
      this.#attemptsSettled = undefined;
    }
  }

  /** Resolves once no step attempt is running (at once when none is). */
  attemptsSettled(): Promise<void> {
    if (this.#attempts === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#attemptsSettled;
      this.#attemptsSettled = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** Looks, after the current macrotask, whether the activation can only wait. */
  check(): void {
    if (this.#checkScheduled || this.#hooks.ended()) return;
    this.#checkScheduled = true;
    nextTurn(this);
  }

  /** The look {@link Liveness.check} scheduled (a `TurnTask`: no closure per check). */
  nextTurn(): void {
    this.#checkScheduled = false;
    if (this.#hooks.ended() || this.#active > 0) return;
    if (this.#hooks.stalled()) {
      // The unstalled results may leave nothing but waits, with no live work to
      // call for another look: look again once they have been delivered.
      this.check();
      return;
    }
    if (this.#waits && this.#waits.length > 0) this.#hooks.blocked([...this.#waits]);
  }
}
