/**
 * The fault plan of a seed: for every store call, which fault (if any) it
 * meets. A decision depends only on the seed, the caller, the method and how
 * many calls of that method the caller made before, so the plan is the same
 * on every run of the seed, whatever the timing (on SQLite and Redis too).
 *
 * @module
 */
import { hashUnit, type Prng } from './prng.js';

/** What can happen to one store call. */
export type FaultKind =
  /** Refused with `STORE_UNAVAILABLE` before reaching the store. */
  | 'unavailable'
  /** Reaches the store (and commits), then the reply is lost: the caller sees `STORE_UNAVAILABLE`. */
  | 'lost-reply'
  /** Reaches the store after a few turns of the event loop (other calls overtake it). */
  | 'delay'
  /** Reaches the store twice; the caller sees the second reply (or its error). */
  | 'duplicate'
  /** The clock jumps past the lease, then the call goes through. */
  | 'jump';

/** Probability of each fault per store call. */
export interface FaultRates {
  /** Refused with `STORE_UNAVAILABLE` before reaching the store (`unavailable`). */
  readonly unavailable: number;
  /** Reaches the store and commits, then its reply is lost (`lost-reply`). */
  readonly lostReply: number;
  /** Reaches the store after a few event-loop turns (`delay`). */
  readonly delay: number;
  /** Reaches the store twice (`duplicate`). */
  readonly duplicate: number;
  /** The clock jumps past the lease before the call (`jump`). */
  readonly jump: number;
}

/** Named rate sets a seed draws from. */
export const FAULT_PROFILES: Readonly<Record<'calm' | 'flaky' | 'hostile', FaultRates>> = Object.freeze({
  calm: { unavailable: 0, lostReply: 0, delay: 0, duplicate: 0, jump: 0 },
  flaky: { unavailable: 0.02, lostReply: 0.02, delay: 0.05, duplicate: 0.02, jump: 0.002 },
  hostile: { unavailable: 0.06, lostReply: 0.05, delay: 0.1, duplicate: 0.05, jump: 0.005 },
});

/** One call's fate. */
export interface FaultDecision {
  /** The fault met. */
  readonly kind: FaultKind;
  /** `delay`: event-loop turns to wait. `jump`: ms past the lease. */
  readonly amount: number;
}

/** Decides faults for one seed. Turn it off with {@link FaultPlan.enabled} for the healing phase. */
export class FaultPlan {
  /** The seed the plan draws from. */
  readonly seed: number;
  /** The profile drawn for the seed. */
  readonly profile: keyof typeof FAULT_PROFILES;
  /** The profile's rates (or the options' `rates`). */
  readonly rates: FaultRates;
  /** While false, no call meets a fault. */
  enabled = true;
  /** How many calls met each fault so far. */
  readonly injected: Record<FaultKind, number> = {
    unavailable: 0,
    'lost-reply': 0,
    delay: 0,
    duplicate: 0,
    jump: 0,
  };
  readonly #counts = new Map<string, number>();

  constructor(seed: number, prng: Prng, rates?: FaultRates) {
    this.seed = seed;
    this.profile = prng.pick(['calm', 'flaky', 'flaky', 'hostile'] as const);
    this.rates = rates ?? FAULT_PROFILES[this.profile];
  }

  /** The fault of the next call of `method` by `caller`, or undefined. Counts the call. */
  decide(caller: string, method: string): FaultDecision | undefined {
    const key = `${caller}:${method}`;
    const index = this.#counts.get(key) ?? 0;
    this.#counts.set(key, index + 1);
    if (!this.enabled) return undefined;
    const decision = this.#draw(caller, method, index);
    if (decision) this.injected[decision.kind]++;
    return decision;
  }

  #draw(caller: string, method: string, index: number): FaultDecision | undefined {
    const u = hashUnit(this.seed, caller, method, index);
    const extra = hashUnit(this.seed, caller, method, index, 'amount');
    const r = this.rates;
    const table: readonly [FaultKind, number, number][] = [
      ['unavailable', r.unavailable, 0],
      ['lost-reply', r.lostReply, 0],
      ['delay', r.delay, 1 + Math.floor(extra * 6)],
      ['duplicate', r.duplicate, 0],
      ['jump', r.jump, 1 + Math.floor(extra * 5_000)],
    ];
    let edge = 0;
    for (const [kind, rate, amount] of table) {
      edge += rate;
      if (u < edge) return { kind, amount };
    }
    return undefined;
  }
}
