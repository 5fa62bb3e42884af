/**
 * What a simulation run takes and what it reports.
 *
 * @module
 */
import type { ExecutionLog } from '@ergon/core';
import type { SimEngine } from './engine.js';
import type { FaultKind, FaultRates } from './fault-plan.js';
import type { Trace } from './trace.js';
import type { Violation } from './violations.js';
import type { WorkloadShape } from './workload.js';

/**
 * A store for one seed, and what to do with it after the seed. It may be
 * shared by many seeds (creating a SQLite file or a Redis connection per seed
 * costs more than a small seed): each seed's flows have ids of their own and
 * a queue of their own, and only those are claimed and checked.
 */
export interface SimStore {
  /** The store the seed runs against. */
  readonly store: ExecutionLog;
  /** Releases it after the seed (close it, or clean the seed's flows out of a shared one). */
  dispose(): Promise<void>;
}

/** Options of {@link runSimulation}. */
export interface SimulationOptions {
  /** The seed: the same seed runs the same workload, faults and schedule. */
  readonly seed: number;
  /** The engine under test (the executor, through its adapter). */
  readonly engine: SimEngine;
  /** Gives the store for this seed. */
  readonly createStore: () => Promise<SimStore>;
  /** The size of the generated workload. Default the seed's own. */
  readonly shape?: WorkloadShape;
  /** Wraps the fresh store before the fault wrappers (a deliberately broken store, in tests of the simulation). */
  readonly wrapStore?: (store: ExecutionLog) => ExecutionLog;
  /** Fault rates instead of the seed's profile. */
  readonly rates?: FaultRates;
  /**
   * Real milliseconds without store activity before the system counts as
   * quiet. 0 (the default) suits the memory store, whose replies are a
   * microtask away; stores behind I/O need a few.
   */
  readonly quietMs?: number;
  /** Simulated time the healing phase may take before unfinished flows count as stuck. Default 6 h. */
  readonly healMs?: number;
  /**
   * Replace `Math.random` with a stream of the seed while the seed runs (the
   * engine's jittered backoffs then replay too). Default true; turn it off when
   * other work shares the process at the same time.
   */
  readonly seedMathRandom?: boolean;
  /** Called with the seed's trace once it ran (to print a failing seed's calls, see `formatTrace`). */
  readonly onTrace?: (trace: Trace) => void;
  /** Longest idle sleep of a worker, in simulated time. Default 30 s. */
  readonly maxIdleMs?: number;
}

/** Counts of one run. */
export interface SimulationStats {
  /** Flows scheduled. */
  readonly flows: number;
  /** Workers started (restarts included). */
  readonly workers: number;
  /** Store calls made by workers and clients. */
  readonly storeCalls: number;
  /** Store calls by method. */
  readonly calls: Readonly<Record<string, number>>;
  /** Creates answered with the new flow claimed (the client's own runs: `SimClient.execute`). */
  readonly claimingCreates: number;
  /** Faults injected, by kind. */
  readonly faults: Readonly<Record<FaultKind, number>>;
  /** Workers paused (past their lease). */
  readonly pauses: number;
  /** Workers killed. */
  readonly kills: number;
  /** Clock jumps. */
  readonly jumps: number;
  /**
   * Step and DAG node bodies started, and how many of those were re-runs: the
   * same attempt of a step started again (after a lost lease, a kill). DAG
   * nodes are not told their attempt, so they are left out of re-runs.
   */
  readonly stepStarts: number;
  /** Of `stepStarts`, the attempts started again (see above). */
  readonly stepReruns: number;
  /** Simulated time the run took, in ms. */
  readonly simulatedMs: number;
  /** Times the runner waited for quiet and then acted or moved the clock. */
  readonly steps: number;
  /** Real time the run took, in ms. */
  readonly realMs: number;
}

/** What one seed found. */
export interface SimulationReport {
  /** The seed. */
  readonly seed: number;
  /** The fault profile the seed drew. */
  readonly profile: string;
  /** Broken invariants; empty when the run was correct. */
  readonly violations: readonly Violation[];
  /** Hash of every store call and reply in order: equal on every run of a seed on the memory store. */
  readonly digest: string;
  /** Counts of the run. */
  readonly stats: SimulationStats;
}
