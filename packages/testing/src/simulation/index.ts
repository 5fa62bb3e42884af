/**
 * `@ergon/testing/simulation`: deterministic simulation of the engine over
 * any store. A seed gives a workload (flows of steps, retries, timers,
 * signals, children and DAGs; schedules, signals and cancels; worker pauses,
 * kills and clock jumps) and a fault plan (store calls refused, replies lost
 * after a commit, calls delayed or delivered twice, the clock jumping past
 * leases); the runner drives workers, a client and the simulated clock
 * through it and checks every invariant afterwards. A failing seed replays
 * exactly on the memory store.
 *
 * ```ts
 * const engine = executorEngine({ flow, Worker, Client, Executor, Graph });
 * const report = await runSimulation({ seed: 42, engine, createStore: async () => ({ store: new InMemoryExecutionLog(), dispose: async () => {} }) });
 * ```
 *
 * @module
 */
export { fencingIgnoringStore } from './broken-store.js';
export { checkChildren, checkRecords, checkShape, checkTimers } from './check-history.js';
export { checkLeases, type LeaseCheckOptions } from './check-leases.js';
export { checkOutcomes, checkSignals, checkTerminal, type StoredSignals } from './check-outcomes.js';
export { type CheckInput, checkInvariants, scriptsOf } from './checker.js';
export type { SimClient, SimClientOptions, SimEngine, SimWorker, SimWorkerOptions } from './engine.js';
export { type ExecutorModule, executorEngine } from './executor-engine.js';
export {
  FAULT_PROFILES,
  type FaultDecision,
  type FaultKind,
  FaultPlan,
  type FaultRates,
} from './fault-plan.js';
export {
  createFaultStore,
  type FaultControl,
  type FaultStore,
  type FaultStoreOptions,
} from './fault-store.js';
export type { SimStore, SimulationOptions, SimulationReport, SimulationStats } from './options.js';
export { hash32, hashUnit, Prng } from './prng.js';
export { runSimulation } from './runner.js';
export {
  type AllOp,
  type ChildOp,
  type DagNodeScript,
  type DagOp,
  type ExpectedPosition,
  expectedPositions,
  type FlowScript,
  type ScriptOp,
  SIM_FLOW_TYPE,
  type SignalOp,
  type SleepOp,
  type StepOp,
} from './script.js';
export {
  type ScriptContext,
  type ScriptFlowModule,
  type ScriptFlowOptions,
  type ScriptGraphNode,
  type ScriptStepScope,
  scriptFlow,
} from './script-flow.js';
export { generateScript } from './script-gen.js';
export { SimClock } from './sim-clock.js';
export { readSnapshot, type StoreSnapshot } from './snapshot.js';
export { Trace, type TraceEntry } from './trace.js';
export { type FormatTraceOptions, formatTrace } from './trace-format.js';
export { Invariant, type Violation } from './violations.js';
export {
  DEFAULT_SHAPE,
  generateWorkload,
  type SimAction,
  type Workload,
  type WorkloadShape,
} from './workload.js';
