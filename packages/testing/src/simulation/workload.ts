/**
 * The workload of one seed: how many workers, the flows (as scripts) and a
 * timeline of what happens to them (schedules, signals, cancels) and to the
 * workers (pauses past the lease, kills and restarts, clock jumps). A pure
 * function of the seed.
 *
 * @module
 */
import type { Prng } from './prng.js';
import type { FlowScript, ScriptOp } from './script.js';
import { generateScript } from './script-gen.js';

/** Sizes and times of a generated workload (simulated milliseconds). */
export interface WorkloadShape {
  /** Top-level flows per seed, [min, max]. */
  readonly flows: readonly [number, number];
  /** Operations per flow, [min, max]. */
  readonly ops: readonly [number, number];
  /** Workers per seed, [min, max]. */
  readonly workers: readonly [number, number];
  /**
   * The workers' lease. The executor's heartbeats run on real timers, which do
   * not fire in simulated time, so a lease is never renewed: every run of a
   * script stays well inside it (see `script-gen.ts`).
   */
  readonly leaseMs: number;
  /** Backoffs at least this long become durable timers. */
  readonly durableBackoffMs: number;
  /**
   * Scales every duration a script is generated with (sleeps, timeouts,
   * backoffs, slowness); default 1. A soak in real time uses a small one.
   */
  readonly timeScale?: number;
}

/** The default shape: small seeds, many of them. */
export const DEFAULT_SHAPE: WorkloadShape = Object.freeze({
  flows: [2, 4] as const,
  ops: [2, 6] as const,
  workers: [2, 4] as const,
  leaseMs: 60_000,
  durableBackoffMs: 2_000,
});

/** Something the runner does at a simulated time (`at`, ms after the start). */
export type SimAction =
  /** A top-level flow is scheduled. */
  | {
      /** When, in ms after the start. */
      readonly at: number;
      /** Discriminant. */
      readonly kind: 'schedule';
      /** The new flow's id. */
      readonly flowId: string;
      /** The script it runs. */
      readonly script: FlowScript;
      /**
       * The client runs it itself (`SimClient.execute`: created and claimed in one store call)
       * rather than scheduling it for the workers. Every fourth flow, so no seed's stream changes.
       */
      readonly execute: boolean;
    }
  /** A signal is sent. */
  | {
      /** When, in ms after the start. */
      readonly at: number;
      /** Discriminant. */
      readonly kind: 'signal';
      /** The flow signalled. */
      readonly flowId: string;
      /** The signal name. */
      readonly name: string;
      /** The encoded payload. */
      readonly payload: string;
    }
  /** A flow is cancelled. */
  | {
      /** When, in ms after the start. */
      readonly at: number;
      /** Discriminant. */
      readonly kind: 'cancel';
      /** The flow cancelled. */
      readonly flowId: string;
    }
  /** The worker's store calls and replies are held (SIGSTOP) until `resume`. */
  | {
      /** When, in ms after the start. */
      readonly at: number;
      /** Discriminant. */
      readonly kind: 'pause';
      /** The worker slot. */
      readonly worker: number;
    }
  /** A paused worker goes on. */
  | {
      /** When, in ms after the start. */
      readonly at: number;
      /** Discriminant. */
      readonly kind: 'resume';
      /** The worker slot. */
      readonly worker: number;
    }
  /** The worker dies (nothing it sends reaches the store any more) and a new one takes its slot. */
  | {
      /** When, in ms after the start. */
      readonly at: number;
      /** Discriminant. */
      readonly kind: 'kill';
      /** The worker slot. */
      readonly worker: number;
    }
  /** The clock jumps forward by `ms` at once. */
  | {
      /** When, in ms after the start. */
      readonly at: number;
      /** Discriminant. */
      readonly kind: 'jump';
      /** How far, in ms. */
      readonly ms: number;
    };

/** One seed's workload. */
export interface Workload {
  /** The shape it was generated with. */
  readonly shape: WorkloadShape;
  /** Per worker slot, its concurrency. */
  readonly workers: readonly number[];
  /** Top-level flows by id. */
  readonly flows: ReadonlyMap<string, FlowScript>;
  /** Ordered by `at` (stable). */
  readonly actions: readonly SimAction[];
}

/** Generates the workload of a seed from its stream; flow ids start with `prefix`. */
export function generateWorkload(prng: Prng, shape: WorkloadShape = DEFAULT_SHAPE, prefix = ''): Workload {
  const workers = Array.from({ length: prng.int(shape.workers[0], shape.workers[1]) }, () => prng.int(1, 4));
  const flows = new Map<string, FlowScript>();
  const actions: SimAction[] = [];
  const count = prng.int(shape.flows[0], shape.flows[1]);
  for (let i = 0; i < count; i++) {
    const flowId = `${prefix}f${i}`;
    const script = generateScript(prng, shape);
    flows.set(flowId, script);
    const at = prng.int(0, 20_000);
    actions.push({ at, kind: 'schedule', flowId, script, execute: i % 4 === 1 });
    // Every signal wait gets at least one signal (more, sometimes): no flow waits forever.
    const waits = new Map<string, number>();
    for (const op of flatten(script.ops))
      if (op.op === 'signal') waits.set(op.name, (waits.get(op.name) ?? 0) + 1);
    let sent = 0;
    for (const [name, n] of waits) {
      const sends = n + (prng.chance(0.2) ? 1 : 0);
      for (let k = 0; k < sends; k++) {
        actions.push({
          at: at + prng.int(0, 60_000),
          kind: 'signal',
          flowId,
          name,
          payload: `${flowId}|${name}|${sent++}`,
        });
      }
    }
    if (prng.chance(0.15)) actions.push({ at: at + prng.int(0, 40_000), kind: 'cancel', flowId });
  }
  const horizon = 60_000;
  for (let p = prng.int(0, 2); p > 0; p--) {
    const worker = prng.int(0, workers.length - 1);
    const at = prng.int(0, horizon);
    actions.push({ at, kind: 'pause', worker });
    actions.push({ at: at + shape.leaseMs + prng.int(1, 10_000), kind: 'resume', worker });
  }
  for (let k = prng.int(0, 2); k > 0; k--) {
    actions.push({ at: prng.int(0, horizon), kind: 'kill', worker: prng.int(0, workers.length - 1) });
  }
  for (let j = prng.int(0, 1); j > 0; j--) {
    actions.push({ at: prng.int(0, horizon), kind: 'jump', ms: shape.leaseMs + prng.int(1, 5_000) });
  }
  // Stable: equal times keep the order they were generated in.
  const ordered = actions.map((a, i) => ({ a, i })).sort((x, y) => x.a.at - y.a.at || x.i - y.i);
  return { shape, workers, flows, actions: ordered.map((x) => x.a) };
}

/** Every operation of a list, groups opened (children's operations excluded). */
export function flatten(ops: readonly ScriptOp[]): ScriptOp[] {
  return ops.flatMap((op) => (op.op === 'all' ? flatten(op.ops) : [op]));
}
