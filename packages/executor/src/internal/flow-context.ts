/**
 * The `FlowContext` of one activation: the operations flow code calls. Each
 * checks its arguments, takes the next position (`positions.ts`) and resolves
 * there: replayed from history, or run live through the concept that does it
 * (step attempts, waits, the DAG operation, progress, patch markers).
 *
 * @module
 */
import { type Duration, InvalidArgumentError, toMillis, uuidv7 } from '@ergon/core';
import type { ChildOptions, FlowContext, WaitForSignalOptions } from '../context.js';
import type { AnyGraph, DagOptions, DagResultOf, GraphInputOf } from '../dag.js';
import type { StepRunner } from '../decorators.js';
import {
  type FlowDefinition,
  type NormalizedStepOptions,
  normalizeStepOptions,
  type StepDefinition,
  type StepOptions,
  type StepScope,
  validateName,
} from '../definitions.js';
import type { Activation } from './activation.js';
import { runDag } from './dag-op.js';
import type { Slot } from './history-cursor.js';
import { PatchCalls } from './patches.js';
import { reportProgress } from './progress-writer.js';
import { awaitChild, receiveSignal, sleepUntilDue } from './waits.js';

/** `ctx.run` without options. */
const NO_STEP_OPTIONS = normalizeStepOptions();

/**
 * Names of `ctx.run` already found valid, in this process: a name is checked once, not once per
 * activation. Bounded: names made from data (`fetch-${id}`) would otherwise grow it for good.
 */
const validRunNames = new Set<string>();
const MAX_VALID_RUN_NAMES = 1000;
/**
 * The name found valid last: a loop of `ctx.run` calls one name over and over, with no set
 * look-up. Starts as a value no argument can be (not undefined, nor the invalid '').
 */
let lastRunName: unknown = Symbol('no run name yet');

function checkRunName(name: string): void {
  if (name === lastRunName) return;
  if (validRunNames.has(name)) {
    lastRunName = name;
    return;
  }
  validateName(name, 'run name');
  lastRunName = name;
  if (validRunNames.size >= MAX_VALID_RUN_NAMES) validRunNames.clear();
  validRunNames.add(name);
}

/** The flow context handed to the flow function of one activation. */
export class ActivationContext implements FlowContext, StepRunner {
  readonly flowId: string;
  readonly flowType: string;
  readonly #activation: Activation;
  /** Made at the first `ctx.patched` or `ctx.deprecatePatch`: most flows have none. */
  #patches: PatchCalls | undefined;

  constructor(activation: Activation) {
    this.flowId = activation.flowId;
    this.flowType = activation.flowType;
    this.#activation = activation;
  }

  get signal(): AbortSignal {
    return this.#activation.abort.signal;
  }

  step<A extends unknown[], R>(definition: StepDefinition<A, R>, ...args: A): Promise<R> {
    if (definition?.kind !== 'step') {
      return Promise.reject(
        new InvalidArgumentError('ctx.step needs a step definition made with step(name, fn)'),
      );
    }
    const activation = this.#activation;
    const slot = activation.positions.take('step', definition.name);
    return activation.runStep(slot, 'step', (scope) => definition.fn(...args, scope), definition.options);
  }

  run<R>(name: string, fn: (scope: StepScope) => Promise<R> | R, options?: StepOptions): Promise<R> {
    checkRunName(name);
    const normalized = options === undefined ? NO_STEP_OPTIONS : normalizeStepOptions(options);
    const activation = this.#activation;
    return activation.runStep(activation.positions.take('run', name), 'run', fn, normalized);
  }

  /** A class-form step (`@Step()`): a durable step named `name`. */
  runNamedStep<R>(name: string, fn: () => Promise<R> | R, options: NormalizedStepOptions): Promise<R> {
    const activation = this.#activation;
    return activation.runStep(activation.positions.take('step', name), 'step', fn, options);
  }

  sleep(duration: Duration): Promise<void> {
    const ms = toMillis(duration, 'sleep duration');
    const { clock } = this.#activation.options;
    return this.#sleep(this.#activation.positions.take('sleep', 'sleep'), () => clock.now() + ms);
  }

  sleepUntil(time: Date | number): Promise<void> {
    const at = typeof time === 'number' ? time : time.getTime();
    if (!Number.isFinite(at))
      return Promise.reject(new InvalidArgumentError('sleepUntil needs a valid Date or epoch ms'));
    return this.#sleep(this.#activation.positions.take('sleep', 'sleep'), () => at);
  }

  waitForSignal<T = unknown>(name: string, options: WaitForSignalOptions = {}): Promise<T> {
    validateName(name, 'signal name');
    const timeoutMs = options.timeout === undefined ? undefined : toMillis(options.timeout, 'signal timeout');
    const activation = this.#activation;
    const slot = activation.positions.take('signal', name);
    return activation.positions.live(slot, () => receiveSignal<T>(activation, slot, name, timeoutMs));
  }

  child<I, O>(definition: FlowDefinition<I, O>, input: I, options: ChildOptions = {}): Promise<O> {
    if (definition?.kind !== 'flow') {
      return Promise.reject(
        new InvalidArgumentError('ctx.child needs a flow definition made with flow(name, fn)'),
      );
    }
    const activation = this.#activation;
    const slot = activation.positions.take('child', definition.name);
    const id = options.flowId ?? `${this.flowId}/${slot.position}`;
    return activation.positions.live(slot, () =>
      awaitChild(activation, slot, { id, definition, input }, options),
    );
  }

  dag<G extends AnyGraph>(
    graph: G,
    input: GraphInputOf<G>,
    options: DagOptions = {},
  ): Promise<DagResultOf<G>> {
    const activation = this.#activation;
    const { positions } = activation;
    const slot = positions.take('dag', `dag:${graph.name}`);
    // Reserve one position per node in the graph's fixed topological order, so
    // positions never depend on which node happens to finish first.
    const nodeSlots = new Map<string, Slot>();
    for (const name of graph.order) nodeSlots.set(name, positions.take('step', `${graph.name}.${name}`));
    // A `waiting` record is the shape written when the DAG started: it runs on (its nodes replay).
    if (slot.record && slot.record.status !== 'waiting') {
      for (const nodeSlot of nodeSlots.values()) positions.skip(nodeSlot.position);
      return positions.replayed(slot);
    }
    if (!slot.record && activation.options.replayOnly) return positions.frontier(slot);
    return runDag(activation, { slot, nodeSlots }, graph, input, options);
  }

  async now(): Promise<Date> {
    const { clock } = this.#activation.options;
    return new Date(await this.#activation.positions.recorded('now', () => clock.now()));
  }

  random(): Promise<number> {
    return this.#activation.positions.recorded('random', () => Math.random());
  }

  uuid(): Promise<string> {
    const { clock } = this.#activation.options;
    return this.#activation.positions.recorded('uuid', () => uuidv7(clock.now()));
  }

  progress(value: unknown): Promise<void> {
    return reportProgress(this.#activation, value);
  }

  async patched(id: string): Promise<boolean> {
    this.#patches ??= new PatchCalls(this.#activation);
    return (await this.#patches.call(id, false)) !== 'absent';
  }

  async deprecatePatch(id: string): Promise<void> {
    this.#patches ??= new PatchCalls(this.#activation);
    await this.#patches.call(id, true);
  }

  #sleep(slot: Slot, wakeAt: () => number): Promise<void> {
    const activation = this.#activation;
    return activation.positions.live(slot, () => sleepUntilDue(activation, slot, wakeAt));
  }
}
