/**
 * The simulation's engine adapter for `@ergon/executor`, built from the
 * executor's exports passed in (this package cannot import the executor: it
 * is the executor's dev dependency). The part of the executor it uses is
 * declared here structurally, as Kysely declares the part of better-sqlite3
 * it uses. Flows are one type, `sim-flow`, whose input is a {@link FlowScript}
 * it interprets through the flow context.
 *
 * @module
 */
import { type Clock, type ExecutionLog, RetryPolicy } from '@ergon/core';
import type { SimClient, SimEngine, SimWorker, SimWorkerOptions } from './engine.js';
import {
  type DagOp,
  doomed,
  type FlowScript,
  SCRIPTED_FAILURE,
  SCRIPTED_FLOW_FAILURE,
  SIM_FLOW_TYPE,
  type ScriptOp,
} from './script.js';
import { errorCode } from './trace.js';

/** What a step body receives (a subset of the executor's `StepScope`). */
export interface ScriptStepScope {
  readonly signal: AbortSignal;
  readonly attempt: number;
  readonly flowId: string;
  readonly key: string;
}

/** The part of the executor's `FlowContext` a script uses. */
export interface ScriptContext<Def, G> {
  readonly flowId: string;
  run<R>(
    name: string,
    fn: (scope: ScriptStepScope) => Promise<R>,
    options?: { readonly retry?: RetryPolicy },
  ): Promise<R>;
  sleep(duration: number): Promise<void>;
  waitForSignal<T = unknown>(name: string, options?: { readonly timeout?: number }): Promise<T>;
  child(definition: Def, input: FlowScript): Promise<unknown>;
  dag(graph: G, input: undefined): Promise<unknown>;
}

/** A graph node as `Graph.fromNodes` takes it. */
export interface ScriptGraphNode {
  readonly name: string;
  readonly deps: readonly string[];
  readonly retry: RetryPolicy;
  readonly run: (deps: unknown, input: unknown, ctx: { readonly signal: AbortSignal }) => Promise<string>;
}

/** The part of `@ergon/executor` (and `@ergon/graph`) the adapter uses. */
export interface ExecutorModule<Def, G> {
  flow(
    name: string,
    run: (ctx: ScriptContext<Def, G>, input: FlowScript) => Promise<unknown>,
    options: { readonly queue: string },
  ): Def;
  readonly Worker: new (options: {
    readonly store: ExecutionLog;
    readonly flows: readonly Def[];
    readonly id: string;
    readonly queues: readonly string[];
    readonly clock: Clock;
    readonly lease: number;
    readonly heartbeat: number;
    readonly concurrency: number;
    readonly durableBackoff: number;
    readonly maxIdle: number;
    readonly unknownTypeCheck: number;
    /** The worker registry's heartbeat (executors that have one). */
    readonly liveness?: { readonly heartbeat: number };
  }) => { start(): unknown; stop(options?: { readonly timeout?: number }): Promise<void> };
  readonly Client: new (options: {
    readonly store: ExecutionLog;
    readonly clock: Clock;
  }) => {
    schedule(
      type: string,
      input: FlowScript,
      options: { readonly flowId: string; readonly queue: string },
    ): Promise<unknown>;
    signal(flowId: string, name: string, payload?: unknown): Promise<void>;
    cancel(flowId: string): Promise<unknown>;
  };
  readonly Graph: { fromNodes(nodes: Iterable<ScriptGraphNode>, options: { readonly name: string }): G };
}

/** An hour of real time: long enough never to fire during a seed. */
const NEVER_MS = 3_600_000;

/**
 * The simulation engine over the executor: `executorEngine({ flow, Worker, Client, Graph })`.
 * Heartbeats run on real timers in the executor, so with the simulated clock
 * they do not fire within a seed: a lease ends by simulated time alone, and a
 * worker registers once, at start (so a worker that starts later declares the
 * others dead when their registration is older than the lapse, and their
 * leases expire: more takeovers, all of which fencing must survive).
 */
export function executorEngine<Def, G>(api: ExecutorModule<Def, G>): SimEngine {
  return {
    name: 'executor',
    startWorker(options: SimWorkerOptions): SimWorker {
      const env: ScriptEnv<Def, G> = { api, clock: options.clock, onStepStart: options.onStepStart };
      const definition = api.flow(SIM_FLOW_TYPE, (ctx, script) => interpret(ctx, script, env), {
        queue: options.queue,
      });
      env.definition = definition;
      const worker = new api.Worker({
        store: options.store,
        flows: [definition],
        id: options.id,
        queues: [options.queue],
        clock: options.clock,
        lease: options.leaseMs,
        heartbeat: Math.floor(options.leaseMs / 3),
        concurrency: options.concurrency,
        durableBackoff: options.durableBackoffMs,
        maxIdle: options.maxIdleMs,
        unknownTypeCheck: NEVER_MS,
        // Registry heartbeats run on real timers: one at start only, so a seed replays exactly.
        liveness: { heartbeat: NEVER_MS },
      });
      worker.start();
      return { stop: () => worker.stop({ timeout: NEVER_MS }) };
    },
    client({ store, clock, queue }): SimClient {
      const client = new api.Client({ store, clock });
      return {
        schedule: async (flowId, script) => {
          await client.schedule(SIM_FLOW_TYPE, script, { flowId, queue });
        },
        signal: (flowId, name, payload) => client.signal(flowId, name, payload),
        cancel: async (flowId) => {
          await client.cancel(flowId);
        },
      };
    },
  };
}

interface ScriptEnv<Def, G> {
  readonly api: ExecutorModule<Def, G>;
  readonly clock: Clock;
  readonly onStepStart: ((flowId: string, key: string) => void) | undefined;
  definition?: Def;
}

async function interpret<Def, G>(
  ctx: ScriptContext<Def, G>,
  script: FlowScript,
  env: ScriptEnv<Def, G>,
): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const op of script.ops) results.push(await runOp(ctx, op, env));
  if (script.fail) throw new Error(SCRIPTED_FLOW_FAILURE);
  return results;
}

/** Calls the flow context for `op` synchronously (positions are taken in call order), then awaits. */
function runOp<Def, G>(ctx: ScriptContext<Def, G>, op: ScriptOp, env: ScriptEnv<Def, G>): Promise<unknown> {
  switch (op.op) {
    case 'step':
      return expect(
        ctx.run(op.name, (scope) => body(scope, op, env, scope.attempt <= op.fails), { retry: policy(op) }),
        (code, error) => (isScripted(error) ? `err:${op.name}` : rethrow(code, error)),
      );
    case 'sleep':
      return ctx.sleep(op.ms).then(() => 'slept');
    case 'signal':
      return expect(
        ctx.waitForSignal(op.name, op.timeoutMs === undefined ? undefined : { timeout: op.timeoutMs }),
        (code, error) => (code === 'SIGNAL_TIMEOUT' ? 'timeout' : rethrow(code, error)),
      );
    case 'child':
      return expect(ctx.child(env.definition as Def, op.script), (code, error) =>
        code === 'CHILD_FLOW_FAILED' ? `err:${code}` : rethrow(code, error),
      );
    case 'dag':
      return expect(
        ctx.dag(graphOf(op, ctx, env), undefined).then((result) => {
          const outputs = (result as { outputs: Record<string, unknown> }).outputs;
          return `dag:${Object.keys(outputs).sort().join(',')}`;
        }),
        (code, error) => (code === 'DAG_FAILED' ? `err:${code}` : rethrow(code, error)),
      );
    case 'all':
      return Promise.all(op.ops.map((member) => runOp(ctx, member, env)));
  }
}

function graphOf<Def, G>(op: DagOp, ctx: ScriptContext<Def, G>, env: ScriptEnv<Def, G>): G {
  return env.api.Graph.fromNodes(
    op.nodes.map((node) => ({
      name: node.name,
      deps: node.deps,
      retry: policy({ attempts: node.attempts, backoffMs: 0 }),
      // A node is not told its attempt: it fails every attempt or none.
      run: (_deps: unknown, _input: unknown, nodeCtx: { readonly signal: AbortSignal }) =>
        body(
          { signal: nodeCtx.signal, attempt: 0, flowId: ctx.flowId, key: `${op.name}.${node.name}` },
          node,
          env,
          doomed(node),
        ),
    })),
    { name: op.name },
  );
}

/** A step or node body: reports its start, takes `slowMs` of simulated time, then fails or returns. */
async function body<Def, G>(
  scope: ScriptStepScope,
  rule: { readonly name: string; readonly slowMs: number },
  env: ScriptEnv<Def, G>,
  fail: boolean,
): Promise<string> {
  env.onStepStart?.(scope.flowId, scope.key);
  if (rule.slowMs > 0) await env.clock.sleep(rule.slowMs, scope.signal);
  if (fail) throw new Error(`${SCRIPTED_FAILURE} of ${rule.name}`);
  return `ok:${rule.name}`;
}

function policy(rule: { readonly attempts: number; readonly backoffMs: number }): RetryPolicy {
  return new RetryPolicy({
    maxAttempts: rule.attempts,
    initialDelay: rule.backoffMs,
    maxDelay: rule.backoffMs,
  });
}

function isScripted(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith(SCRIPTED_FAILURE);
}

/** Turns the expected rejections of an operation into results; anything else fails the flow. */
function expect(
  work: Promise<unknown>,
  onError: (code: string, error: unknown) => unknown,
): Promise<unknown> {
  return work.catch((error: unknown) => onError(errorCode(error), error));
}

function rethrow(_code: string, error: unknown): never {
  throw error;
}
