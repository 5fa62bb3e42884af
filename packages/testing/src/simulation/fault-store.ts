/**
 * The fault-injecting store: wraps the real store for one simulated process
 * (a worker or the client), records every call in the trace and applies the
 * seed's fault plan to it: refused before the store, lost reply after a
 * commit, delayed, delivered twice, or preceded by a clock jump past the
 * lease. The process can also be paused (its calls and replies held, like
 * SIGSTOP) and killed (nothing it sends reaches the store any more).
 *
 * Every method of the wrapped store goes through the same path, so the
 * wrapper follows the storage contract as it grows. The engine wraps it in
 * core's runtime wrapper like any other store.
 *
 * @module
 */
import {
  type BatchOutcome,
  type BatchWrite,
  type CreateOutcome,
  type ExecutionLog,
  type NewFlow,
  type StoreListener,
  StoreUnavailableError,
} from '@ergon/core';
import type { FaultKind, FaultPlan } from './fault-plan.js';
import type { SimClock } from './sim-clock.js';
import type { Trace } from './trace.js';

/** Options of {@link createFaultStore}. */
export interface FaultStoreOptions {
  /** The real store, shared by every simulated process. */
  readonly inner: ExecutionLog;
  /** Who calls through this wrapper (`w0`, `client`). */
  readonly caller: string;
  /** Decides which calls meet which fault. */
  readonly plan: FaultPlan;
  /** Where every call and reply is recorded. */
  readonly trace: Trace;
  /** The simulated clock (a `jump` moves it). */
  readonly clock: SimClock;
  /** The workers' lease: a `jump` goes past it. */
  readonly leaseMs: number;
}

/** How the runner steers one simulated process's store. */
export interface FaultControl {
  /** Who calls through this wrapper. */
  readonly caller: string;
  /** True between {@link FaultControl.pause} and {@link FaultControl.resume}. */
  readonly paused: boolean;
  /** True once {@link FaultControl.kill} was called. */
  readonly killed: boolean;
  /** Holds every call and every reply of this process until {@link FaultControl.resume}. */
  pause(): void;
  /** Lets held calls and replies go, in the order they were held. */
  resume(): void;
  /** From now on nothing this process sends reaches the store, and no reply reaches it. */
  kill(): void;
}

/** A store for one simulated process, with its controls. */
export type FaultStore = ExecutionLog & FaultControl;

/** The single call each write of a batch stands for, as the trace names it. */
const BATCH_METHODS = { record: 'recordOperation', suspend: 'suspend', finish: 'finishFlow' } as const;
const CONTROLS = new Set<PropertyKey>(['caller', 'paused', 'killed', 'pause', 'resume', 'kill']);
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Wraps the real store for one simulated process. */
export function createFaultStore(options: FaultStoreOptions): FaultStore {
  const process = new FaultyProcess(options);
  const { inner } = options;
  return new Proxy(inner, {
    get(target, property) {
      if (CONTROLS.has(property)) {
        const value = Reflect.get(process, property, process);
        return typeof value === 'function' ? value.bind(process) : value;
      }
      // The real store is shared and closed by the runner, never by a simulated process.
      if (property === 'close') return async () => {};
      if (property === 'subscribe') {
        return target.subscribe ? (listener: StoreListener) => process.subscribe(listener) : undefined;
      }
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = String(property);
      return (...args: unknown[]) =>
        // The one-flow reads take the id first: trace it as a request naming the flow.
        process.call(method, typeof args[0] === 'string' ? { flowId: args[0] } : args[0], () =>
          value.apply(target, args),
        );
    },
  }) as FaultStore;
}

class FaultyProcess implements FaultControl {
  readonly caller: string;
  readonly #o: FaultStoreOptions;
  #held: { promise: Promise<void>; resume: () => void } | undefined;
  #killed = false;

  constructor(options: FaultStoreOptions) {
    this.#o = options;
    this.caller = options.caller;
  }

  get paused(): boolean {
    return this.#held !== undefined;
  }

  get killed(): boolean {
    return this.#killed;
  }

  pause(): void {
    if (this.#held || this.#killed) return;
    let resume = () => {};
    const promise = new Promise<void>((resolve) => {
      resume = resolve;
    });
    this.#held = { promise, resume };
  }

  resume(): void {
    const held = this.#held;
    this.#held = undefined;
    held?.resume();
  }

  kill(): void {
    this.#killed = true;
    this.resume();
  }

  subscribe(listener: StoreListener): () => void {
    const inner = this.#o.inner;
    // A paused or dead process hears nothing.
    return (inner.subscribe as NonNullable<ExecutionLog['subscribe']>).call(inner, (event) => {
      if (!this.#held && !this.#killed) listener(event);
    });
  }

  async call<T>(method: string, request: unknown, run: () => Promise<T>): Promise<T> {
    const { plan, clock, caller, leaseMs, trace } = this.#o;
    await this.#gate();
    const fault = plan.decide(caller, method);
    if (fault?.kind === 'unavailable') throw this.#unavailable(`${method} refused (injected)`);
    if (fault?.kind === 'delay') {
      for (let i = 0; i < fault.amount; i++) {
        trace.touch();
        await turn();
      }
    }
    if (fault?.kind === 'jump') clock.advance(leaseMs + fault.amount);
    await this.#gate();
    const deliver = (kind: FaultKind | undefined) =>
      method === 'applyWrites'
        ? this.#deliverBatch(
            (request as readonly BatchWrite[]).map((w) => ({
              method: BATCH_METHODS[w.op],
              request: w.request,
            })),
            run,
            kind,
          )
        : method === 'createFlows'
          ? this.#deliverBatch(
              (request as readonly NewFlow[]).map((flow) => ({ method: 'createFlow', request: flow })),
              run,
              kind,
            )
          : this.#deliver(method, request, run, kind);
    let result = await deliver(fault?.kind);
    if (fault?.kind === 'duplicate') result = await deliver('duplicate');
    // A paused process reads its replies only once resumed; a dead one never does.
    await this.#gate();
    if (fault?.kind === 'lost-reply') throw this.#unavailable(`${method} reply lost (injected)`);
    if (!result.ok) throw result.error;
    return result.value;
  }

  /** One delivery to the real store, traced. */
  async #deliver<T>(
    method: string,
    request: unknown,
    run: () => Promise<T>,
    fault: FaultKind | undefined,
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    const { trace, clock } = this.#o;
    const entry = trace.begin(this.caller, method, request, clock.now(), fault);
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await run() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    trace.end(entry, outcome);
    return outcome;
  }

  /**
   * One delivery of a batch (writes, or creates), traced as one entry per single call it
   * stands for (the checks read single calls), each with its own outcome; a batch that fails
   * fails every entry.
   */
  async #deliverBatch<T>(
    calls: readonly { method: string; request: unknown }[],
    run: () => Promise<T>,
    fault: FaultKind | undefined,
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    const { trace, clock } = this.#o;
    const entries = calls.map((c) => trace.begin(this.caller, c.method, c.request, clock.now(), fault));
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await run() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    entries.forEach((entry, i) => {
      const one = outcome.ok ? (outcome.value as (BatchOutcome | CreateOutcome)[])[i] : outcome;
      trace.end(entry, one ?? { ok: false, error: new Error('no outcome for this write') });
    });
    return outcome;
  }

  /** Waits while paused; throws once killed. */
  async #gate(): Promise<void> {
    while (this.#held) await this.#held.promise;
    if (this.#killed) throw this.#unavailable('the process is dead');
  }

  #unavailable(message: string): StoreUnavailableError {
    return new StoreUnavailableError(this.#o.inner.name, `${this.caller}: ${message}`);
  }
}
