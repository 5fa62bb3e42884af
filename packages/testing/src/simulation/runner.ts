/**
 * The simulation runner: one seed drives several workers, a client and the
 * simulated clock through a generated workload under the seed's faults, then
 * lets the system heal (faults off, paused workers resumed) until every flow
 * has finished, stops the workers and checks every invariant.
 *
 * It steps deterministically: it waits until the system is quiet (no store
 * call in flight, none started for a few turns of the event loop), then does
 * the next due action of the timeline or moves the clock to the next sleeper.
 * On the memory store nothing else moves, so a seed replays exactly.
 *
 * @module
 */
import type { ExecutionLog } from '@ergon/core';
import { checkInvariants } from './checker.js';
import { ClientDriver } from './client-driver.js';
import type { SimWorker } from './engine.js';
import { FaultPlan } from './fault-plan.js';
import { createFaultStore, type FaultStore } from './fault-store.js';
import type { SimulationOptions, SimulationReport, SimulationStats } from './options.js';
import { Prng } from './prng.js';
import { waitForQuiet } from './quiet.js';
import { SimClock } from './sim-clock.js';
import { readSnapshot, unfinishedFlows } from './snapshot.js';
import { simulationStats } from './stats.js';
import { Trace, type TraceEntry } from './trace.js';
import { Invariant, type Violation } from './violations.js';
import { DEFAULT_SHAPE, generateWorkload, type SimAction, type Workload } from './workload.js';

const MAX_STEPS = 50_000;

/** Runs one seed and checks it. Never throws for a broken invariant: it reports it. */
export async function runSimulation(options: SimulationOptions): Promise<SimulationReport> {
  const started = performance.now();
  const fresh = await options.createStore();
  const random = Math.random;
  if (options.seedMathRandom !== false) {
    const stream = new Prng(options.seed).fork('math-random');
    Math.random = () => stream.next();
  }
  try {
    return await new Simulation(options, fresh.store, started).run();
  } finally {
    Math.random = random;
    await fresh.dispose();
  }
}

interface Slot {
  incarnation: number;
  store: FaultStore;
  worker: SimWorker;
}

class Simulation {
  readonly #o: SimulationOptions;
  readonly #raw: ExecutionLog;
  readonly #store: ExecutionLog;
  readonly #started: number;
  readonly #clock = new SimClock();
  readonly #trace = new Trace();
  readonly #plan: FaultPlan;
  readonly #workload: Workload;
  readonly #slots: Slot[] = [];
  readonly #retired: SimWorker[] = [];
  readonly #paused = new Map<number, FaultStore>();
  readonly #client: ClientDriver;
  readonly #violations: Violation[] = [];
  readonly #starts = new Map<string, number>();
  readonly #counts = { pauses: 0, kills: 0, jumps: 0 };
  #steps = 0;
  /** Trace entries looked at by {@link Simulation.#allFinished}, and what it found last. */
  #scanned = 0;
  #unfinished: boolean | undefined;
  /** Flow and worker ids of this seed start with it; its flows are in their own queue. */
  readonly #prefix: string;
  readonly #queue: string;

  constructor(options: SimulationOptions, store: ExecutionLog, started: number) {
    this.#o = options;
    this.#raw = store;
    this.#store = options.wrapStore ? options.wrapStore(store) : store;
    this.#started = started;
    const prng = new Prng(options.seed);
    this.#plan = new FaultPlan(options.seed, prng.fork('faults'), options.rates);
    this.#prefix = `s${options.seed}:`;
    this.#queue = `sim-${options.seed}`;
    this.#workload = generateWorkload(prng.fork('workload'), options.shape ?? DEFAULT_SHAPE, this.#prefix);
    const client = options.engine.client({
      store: this.#faultStore('client'),
      clock: this.#clock,
      queue: this.#queue,
      leaseMs: this.#workload.shape.leaseMs,
      durableBackoffMs: this.#workload.shape.durableBackoffMs,
      onStepStart: (flowId, key, attempt) => this.#stepStarted(flowId, key, attempt),
    });
    this.#client = new ClientDriver(client, this.#clock, (v) => this.#violations.push(v));
  }

  async run(): Promise<SimulationReport> {
    for (let i = 0; i < this.#workload.workers.length; i++) this.#startWorker(i, 0);
    await this.#drive();
    await this.#stopWorkers();
    const snapshot = await readSnapshot(this.#raw, this.#queue);
    this.#o.onTrace?.(this.#trace);
    const violations = [
      ...this.#violations,
      ...checkInvariants({ snapshot, entries: this.#trace.entries, flows: this.#workload.flows }),
    ];
    const trace = this.#trace;
    return {
      seed: this.#o.seed,
      profile: this.#plan.profile,
      violations,
      get digest() {
        return trace.digest;
      },
      stats: this.#stats(),
    };
  }

  /** The timeline, then healing until every flow has finished (or the healing time ran out). */
  async #drive(): Promise<void> {
    const { actions } = this.#workload;
    const t0 = this.#clock.now();
    const healMs = this.#o.healMs ?? 6 * 3_600_000;
    let next = 0;
    let healStart: number | undefined;
    for (let step = 0; ; step++, this.#steps++) {
      if (step >= MAX_STEPS) return this.#fail(`the run took more than ${MAX_STEPS} steps`);
      if (!(await this.#quiesce())) return;
      const now = this.#clock.now();
      const action = actions[next];
      if (action && t0 + action.at <= now) {
        next++;
        this.#perform(action);
        continue;
      }
      if (!action && healStart === undefined && this.#client.idle) {
        healStart = now;
        this.#heal();
        continue;
      }
      if (healStart !== undefined && this.#client.idle) {
        const mark = this.#trace.activity;
        if (await this.#allFinished()) return;
        // The look at a store behind I/O took real time, in which the engine may have moved on:
        // the next due time is only known once it is quiet again.
        if (this.#trace.inflight > 0 || this.#trace.activity !== mark) continue;
      }
      // Flows still unfinished now are reported by the checker as stuck.
      if (healStart !== undefined && now - healStart > healMs) return;
      const sleeper = this.#clock.nextDue();
      const due = action ? Math.min(t0 + action.at, sleeper ?? Number.POSITIVE_INFINITY) : sleeper;
      if (due === undefined) return;
      this.#clock.set(Math.max(due, now));
    }
  }

  /**
   * Whether every flow of the seed has finished. The store is asked only when
   * some call since the last look may have finished a flow.
   */
  async #allFinished(): Promise<boolean> {
    const { entries } = this.#trace;
    let finishing = false;
    for (; this.#scanned < entries.length; this.#scanned++) {
      const e = entries[this.#scanned] as TraceEntry;
      if (e.ok && (e.method === 'finishFlow' || e.method === 'requestCancel' || e.method === 'suspend')) {
        finishing = true;
      }
    }
    if (!finishing && this.#unfinished !== undefined) return !this.#unfinished;
    this.#unfinished = (await unfinishedFlows(this.#raw, this.#queue)) > 0;
    return !this.#unfinished;
  }

  #perform(action: SimAction): void {
    switch (action.kind) {
      case 'schedule':
      case 'signal':
      case 'cancel':
        this.#client.push(action);
        return;
      case 'pause': {
        const slot = this.#slots[action.worker] as Slot;
        if (this.#paused.has(action.worker)) return;
        slot.store.pause();
        this.#paused.set(action.worker, slot.store);
        this.#counts.pauses++;
        return;
      }
      case 'resume':
        this.#paused.get(action.worker)?.resume();
        this.#paused.delete(action.worker);
        return;
      case 'kill': {
        const slot = this.#slots[action.worker] as Slot;
        slot.store.kill();
        this.#paused.delete(action.worker);
        this.#retired.push(slot.worker);
        this.#startWorker(action.worker, slot.incarnation + 1);
        this.#counts.kills++;
        return;
      }
      case 'jump':
        this.#clock.advance(action.ms);
        this.#counts.jumps++;
        return;
    }
  }

  /** Faults off, every paused worker resumed: from here on the system must finish everything. */
  #heal(): void {
    this.#plan.enabled = false;
    for (const store of this.#paused.values()) store.resume();
    this.#paused.clear();
  }

  #startWorker(index: number, incarnation: number): void {
    const caller = incarnation === 0 ? `w${index}` : `w${index}.${incarnation}`;
    const store = this.#faultStore(caller);
    const worker = this.#o.engine.startWorker({
      id: `${this.#prefix}${caller}`,
      store,
      clock: this.#clock,
      queue: this.#queue,
      leaseMs: this.#workload.shape.leaseMs,
      concurrency: this.#workload.workers[index] ?? 1,
      durableBackoffMs: this.#workload.shape.durableBackoffMs,
      maxIdleMs: this.#o.maxIdleMs ?? 30_000,
      onStepStart: (flowId, key, attempt) => this.#stepStarted(flowId, key, attempt),
    });
    this.#slots[index] = { incarnation, store, worker };
  }

  /** Counts a step body's start (re-runs are reported in the stats). */
  #stepStarted(flowId: string, key: string, attempt: number): void {
    const id = `${flowId}/${key}/${attempt}`;
    this.#starts.set(id, (this.#starts.get(id) ?? 0) + 1);
  }

  #faultStore(caller: string): FaultStore {
    return createFaultStore({
      inner: this.#store,
      caller,
      plan: this.#plan,
      trace: this.#trace,
      clock: this.#clock,
      leaseMs: this.#workload.shape.leaseMs,
    });
  }

  /** Stops every worker, dead ones included, moving the clock while their runs wind down. */
  async #stopWorkers(): Promise<void> {
    for (const slot of this.#slots) slot.store.resume();
    let stopped = false;
    const all = [...this.#slots.map((s) => s.worker), ...this.#retired];
    const stopping = Promise.all(all.map((w) => w.stop())).then(() => {
      stopped = true;
    });
    for (let step = 0; !stopped; step++) {
      if (step >= MAX_STEPS || !(await this.#quiesce())) return this.#fail('the workers did not stop');
      if (stopped) break;
      const due = this.#clock.nextDue();
      // Nothing in flight, no timer pending: a run waits on something that will never come.
      if (due === undefined) {
        return this.#fail('the workers did not stop: a run waits for something that never comes');
      }
      this.#clock.set(due);
    }
    await stopping;
  }

  /** Waits for quiet (see `quiet.ts`); false, with a violation, when it never came. */
  async #quiesce(): Promise<boolean> {
    if (await waitForQuiet(this.#trace, this.#o.quietMs ?? 0)) return true;
    this.#fail(`the system never went quiet (${this.#trace.inflight} store calls in flight)`);
    return false;
  }

  #fail(detail: string): void {
    this.#violations.push({ invariant: Invariant.RUN, detail });
  }

  #stats(): SimulationStats {
    return simulationStats({
      trace: this.#trace,
      starts: this.#starts,
      flows: this.#workload.flows.size,
      workers: this.#workload.workers.length,
      faults: this.#plan.injected,
      counts: this.#counts,
      simulatedMs: this.#clock.now() - Date.UTC(2030, 0, 1),
      steps: this.#steps,
      realMs: Math.round(performance.now() - this.#started),
    });
  }
}
