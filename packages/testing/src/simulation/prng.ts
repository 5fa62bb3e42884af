/**
 * Seeded randomness for the simulation: a small stream generator for the
 * workload, and a keyed hash for fault decisions, so a decision depends only
 * on the seed and on which call it is (not on how calls interleaved before it).
 *
 * @module
 */

/** 32-bit finaliser of MurmurHash3: spreads every input bit over the output. */
function mix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A 32-bit hash of the seed and the parts (FNV-1a over their text, then mixed). */
export function hash32(seed: number, ...parts: readonly (string | number)[]): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (const part of parts) {
    const text = String(part);
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h = mix32(h ^ 0x2f);
  }
  return h >>> 0;
}

/** A number in [0, 1) that depends only on the seed and the parts. */
export function hashUnit(seed: number, ...parts: readonly (string | number)[]): number {
  return hash32(seed, ...parts) / 0x1_0000_0000;
}

/**
 * A seeded pseudo-random stream (mulberry32). The same seed always yields the
 * same numbers; {@link Prng.fork} derives an independent stream by label, so
 * adding draws to one part of a workload leaves the others unchanged.
 */
export class Prng {
  /** The seed this stream started from. */
  readonly seed: number;
  #state: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#state = hash32(this.seed, 'prng');
  }

  /** The next number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  }

  /** A whole number in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined && items.length === 0) throw new Error('Prng.pick needs a non-empty list');
    return item as T;
  }

  /** An independent stream for the part of the run named `label`. */
  fork(label: string): Prng {
    return new Prng(hash32(this.seed, 'fork', label));
  }
}
