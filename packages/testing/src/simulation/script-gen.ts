/**
 * Random flow scripts: steps with retries (in-memory and durable backoffs),
 * sleeps, signal waits with and without timeouts, children, DAGs and groups
 * run with `Promise.all`, some slow, some failing for good.
 *
 * One run of a flow (the work between two suspensions) must stay inside the
 * lease, which is never renewed in simulated time. Each script therefore gets
 * a budget of simulated time for the slowness and in-memory backoffs of all
 * its operations together (a bound on any one run, since a run does no more
 * than all of them): once spent, further steps are instant and back off as
 * durable timers. Children have budgets of their own.
 *
 * @module
 */
import type { Prng } from './prng.js';
import type { DagNodeScript, FlowScript, ScriptOp, StepOp } from './script.js';
import type { WorkloadShape } from './workload.js';

/** Generates a top-level flow's script (its children's scripts within). */
export function generateScript(prng: Prng, shape: WorkloadShape): FlowScript {
  return new ScriptGen(prng, shape, 0).script();
}

class ScriptGen {
  readonly #prng: Prng;
  readonly #shape: WorkloadShape;
  readonly #depth: number;
  /** Simulated time this script's operations may still spend inside one run. */
  #budget: number;
  #steps = 0;
  #dags = 0;

  constructor(prng: Prng, shape: WorkloadShape, depth: number) {
    this.#prng = prng;
    this.#shape = shape;
    this.#depth = depth;
    this.#budget = Math.floor(shape.leaseMs * 0.4);
  }

  script(): FlowScript {
    const p = this.#prng;
    // Children are short: 2 or 3 operations (fewer when the shape asks for fewer).
    const [min, max] = this.#shape.ops;
    const n = this.#depth === 0 ? p.int(min, max) : p.int(Math.min(min, 2), Math.min(3, max));
    const ops = Array.from({ length: n }, () => this.#op(true));
    return { ops, fail: p.chance(0.05) };
  }

  #op(allowGroup: boolean): ScriptOp {
    const p = this.#prng;
    const roll = p.next();
    if (roll < 0.4) return this.#step();
    if (roll < 0.55) return { op: 'sleep', ms: this.#ms(p.int(0, 20_000)) };
    // Children never wait for signals: the workload signals top-level flows only.
    if (roll < 0.7 && this.#depth === 0) {
      const timeoutMs = p.chance(0.4) ? this.#ms(p.int(1_000, 30_000)) : undefined;
      return { op: 'signal', name: p.pick(['sig-a', 'sig-b']), timeoutMs };
    }
    if (roll < 0.8 && this.#depth < 2) {
      return {
        op: 'child',
        script: new ScriptGen(p.fork(`child-${p.next()}`), this.#shape, this.#depth + 1).script(),
      };
    }
    if (roll < 0.9) return { op: 'dag', name: `g${this.#dags++}`, nodes: this.#dag() };
    if (!allowGroup) return this.#step();
    return { op: 'all', ops: Array.from({ length: p.int(2, 3) }, () => this.#op(false)) };
  }

  #step(): StepOp {
    const p = this.#prng;
    const attempts = p.int(1, 4);
    const fails = p.chance(0.5) ? 0 : p.int(1, attempts);
    const retries = Math.min(fails, attempts - 1);
    const durable = this.#shape.durableBackoffMs;
    let backoffMs = p.chance(0.3) ? durable + this.#ms(p.int(0, 5_000)) : this.#ms(p.int(0, 1_500));
    // In-memory backoffs spend the run's time; past the budget they become durable timers.
    if (backoffMs < durable && !this.#spend(retries * backoffMs)) backoffMs = durable;
    const slowMs = this.#slowness(Math.min(fails + 1, attempts));
    return { op: 'step', name: `s${this.#steps++}`, attempts, fails, backoffMs, slowMs };
  }

  #dag(): DagNodeScript[] {
    const p = this.#prng;
    const nodes: DagNodeScript[] = [];
    for (let i = 0, count = p.int(2, 4); i < count; i++) {
      const deps = nodes.filter(() => p.chance(0.5)).map((d) => d.name);
      const attempts = p.int(1, 3);
      // A node is not told its attempt: it fails all of them or none.
      const fails = p.chance(0.8) ? 0 : attempts;
      nodes.push({
        name: `n${i}`,
        deps,
        attempts,
        fails,
        slowMs: this.#slowness(fails === 0 ? 1 : attempts),
      });
    }
    return nodes;
  }

  /** Mostly instant, sometimes slow, rarely much slower; `runs` attempts each take it. */
  #slowness(runs: number): number {
    const p = this.#prng;
    const roll = p.next();
    const ms =
      roll < 0.6
        ? 0
        : roll < 0.97
          ? this.#ms(p.int(1, 3_000))
          : p.int(this.#ms(3_000), Math.floor(this.#shape.leaseMs / 6));
    return this.#spend(ms * runs) ? ms : 0;
  }

  /** A generated duration, scaled by the shape's `timeScale`. */
  #ms(ms: number): number {
    return Math.round(ms * (this.#shape.timeScale ?? 1));
  }

  /** Takes `ms` from the budget; false (and nothing taken) when too little is left. */
  #spend(ms: number): boolean {
    if (ms > this.#budget) return false;
    this.#budget -= ms;
    return true;
  }
}
