/**
 * The simulation's engine adapter for `@ergon/executor`, built from the
 * executor's exports passed in (this package cannot import the executor: it
 * is the executor's dev dependency). The part of the executor it uses is
 * declared here structurally, as Kysely declares the part of better-sqlite3
 * it uses. Workers run one flow type, `sim-flow` (see `script-flow.ts`).
 *
 * @module
 */
import type { Clock, ExecutionLog } from '@ergon/core';
import type { SimClient, SimEngine, SimWorker, SimWorkerOptions } from './engine.js';
import type { FlowScript } from './script.js';
import { SIM_FLOW_TYPE } from './script.js';
import { type ScriptContext, type ScriptGraphNode, scriptFlow } from './script-flow.js';

/** The part of `@ergon/executor` (and `@ergon/graph`) the adapter uses. */
export interface ExecutorModule<Def, G> {
  /** Defines a flow type (`flow` of `@ergon/executor`). */
  flow(
    name: string,
    run: (ctx: ScriptContext<Def, G>, input: FlowScript) => Promise<unknown>,
    options: { readonly queue: string },
  ): Def;
  /** The worker class (`Worker` of `@ergon/executor`). */
  readonly Worker: {
    /** Creates a worker with the simulation's settings. */
    new (options: {
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
      readonly schedules?: false;
    }): {
      /** Starts claiming. */
      start(): unknown;
      /** Stops claiming and drains. */
      stop(options?: { readonly timeout?: number }): Promise<void>;
    };
  };
  /** The client class (`Client` of `@ergon/executor`). */
  readonly Client: {
    /** Creates a client on a store. */
    new (options: {
      readonly store: ExecutionLog;
      readonly clock: Clock;
    }): {
      /** Schedules a flow by type name, idempotently by id. */
      schedule(
        type: string,
        input: FlowScript,
        options: { readonly flowId: string; readonly queue: string },
      ): Promise<unknown>;
      /** Sends a signal. */
      signal(flowId: string, name: string, payload?: unknown): Promise<void>;
      /** Cancels a flow. */
      cancel(flowId: string): Promise<unknown>;
    };
  };
  /**
   * Optional: the executor class (`Executor` of `@ergon/executor`); with it, the simulated
   * client runs some flows itself (`execute`), created and claimed in one store call.
   */
  readonly Executor?: {
    /** Creates an executor with the simulation's settings. */
    new (options: {
      readonly store: ExecutionLog;
      readonly flows: readonly NoInfer<Def>[];
      readonly clock: Clock;
      readonly lease: number;
      readonly durableBackoff: number;
    }): {
      /** Creates (idempotently) and runs a flow until it finishes or suspends. */
      execute(
        definition: NoInfer<Def>,
        input: FlowScript,
        options: { readonly flowId: string; readonly queue: string },
      ): Promise<unknown>;
    };
  };
  /** The graph class (`Graph` of `@ergon/graph`). */
  readonly Graph: {
    /** Builds a graph from nodes (`Graph.fromNodes`). */
    fromNodes(nodes: Iterable<ScriptGraphNode>, options: { readonly name: string }): G;
  };
}

/** An hour of real time: long enough never to fire during a seed. */
const NEVER_MS = 3_600_000;

/**
 * The simulation engine over the executor: `executorEngine({ flow, Worker, Client, Executor, Graph })`
 * (without `Executor`, the client only schedules).
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
      const definition = scriptFlow(api, options);
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
        // The schedule loop looks at the store on real timers too, and a seed has no schedules.
        schedules: false,
      });
      worker.start();
      return { stop: () => worker.stop({ timeout: NEVER_MS }) };
    },
    client(options): SimClient {
      const { store, clock, queue } = options;
      const client = new api.Client({ store, clock });
      const definition = api.Executor ? scriptFlow(api, options) : undefined;
      const executor =
        api.Executor && definition
          ? new api.Executor({
              store,
              flows: [definition],
              clock,
              lease: options.leaseMs,
              durableBackoff: options.durableBackoffMs,
            })
          : undefined;
      return {
        schedule: async (flowId, script) => {
          await client.schedule(SIM_FLOW_TYPE, script, { flowId, queue });
        },
        ...(executor && definition
          ? {
              execute: async (flowId: string, script: FlowScript) => {
                await executor.execute(definition, script, { flowId, queue });
              },
            }
          : {}),
        signal: (flowId, name, payload) => client.signal(flowId, name, payload),
        cancel: async (flowId) => {
          await client.cancel(flowId);
        },
      };
    },
  };
}
