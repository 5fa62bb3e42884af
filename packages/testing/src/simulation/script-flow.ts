/**
 * The `sim-flow` flow type: a {@link FlowScript} interpreted through the flow
 * context. Every operation is called synchronously, in script order, so it
 * takes the position the checker expects; expected rejections (a scripted
 * failure, a signal timeout, a failed child or DAG) become results, anything
 * else fails the flow.
 *
 * @module
 */
import { type Clock, RetryPolicy } from '@ergon/core';
import type { ExecutorModule } from './executor-engine.js';
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
  /** Fires on the attempt's timeout and on cancellation. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The flow the attempt belongs to. */
  readonly flowId: string;
  /** The step's history key. */
  readonly key: string;
}

/** The part of the executor's `FlowContext` a script uses. */
export interface ScriptContext<Def, G> {
  /** The flow's id. */
  readonly flowId: string;
  /** Runs an inline step (`ctx.run`). */
  run<R>(
    name: string,
    fn: (scope: ScriptStepScope) => Promise<R>,
    options?: { readonly retry?: RetryPolicy },
  ): Promise<R>;
  /** Sleeps on a durable timer (`ctx.sleep`), in ms. */
  sleep(duration: number): Promise<void>;
  /** Waits for a signal (`ctx.waitForSignal`). */
  waitForSignal<T = unknown>(name: string, options?: { readonly timeout?: number }): Promise<T>;
  /** Runs a child flow (`ctx.child`). */
  child(definition: Def, input: FlowScript): Promise<unknown>;
  /** Runs a DAG (`ctx.dag`). */
  dag(graph: G, input: undefined): Promise<unknown>;
}

/** A graph node as `Graph.fromNodes` takes it. */
export interface ScriptGraphNode {
  /** The node name. */
  readonly name: string;
  /** The nodes it depends on. */
  readonly deps: readonly string[];
  /** Its retry policy. */
  readonly retry: RetryPolicy;
  /** Its body. */
  readonly run: (deps: unknown, input: unknown, ctx: { readonly signal: AbortSignal }) => Promise<string>;
}

/** The part of the executor a script flow needs: `flow`, and `Graph` for its DAGs. */
export type ScriptFlowModule<Def, G> = Pick<ExecutorModule<Def, G>, 'flow' | 'Graph'>;

/** Options of {@link scriptFlow}. */
export interface ScriptFlowOptions {
  /** What step bodies take their slowness from. */
  readonly clock: Clock;
  /** The queue of the flows (children included). */
  readonly queue: string;
  /** Called each time a step or DAG node body starts, with its attempt (0 for a DAG node). */
  readonly onStepStart?: ((flowId: string, key: string, attempt: number) => void) | undefined;
}

/**
 * The `sim-flow` definition: runs the {@link FlowScript} it is given as input
 * through the flow context, children as `sim-flow` too. For workers of one's
 * own (a soak runs it in real worker processes).
 */
export function scriptFlow<Def, G>(api: ScriptFlowModule<Def, G>, options: ScriptFlowOptions): Def {
  const env: ScriptEnv<Def, G> = { api, clock: options.clock, onStepStart: options.onStepStart };
  const definition = api.flow(SIM_FLOW_TYPE, (ctx, script) => interpret(ctx, script, env), {
    queue: options.queue,
  });
  env.definition = definition;
  return definition;
}

interface ScriptEnv<Def, G> {
  readonly api: ScriptFlowModule<Def, G>;
  readonly clock: Clock;
  readonly onStepStart: ((flowId: string, key: string, attempt: number) => void) | undefined;
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
  env.onStepStart?.(scope.flowId, scope.key, scope.attempt);
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
