/**
 * Running a task: in this process (async or threaded model), or in a pool of
 * child processes (`workers: n`). Either way: dependencies started first and
 * stopped last, SIGINT/SIGTERM handled (graceful, then hard), and a summary
 * at the end.
 *
 * @module
 */
import {
  type Duration,
  InvalidArgumentError,
  type Logger,
  noopLogger,
  runtimeStore,
  type StoreInput,
  systemClock,
  toError,
  toMillis,
} from '@ergon/core';
import { WORKER_HOST, WorkerPresence } from '@ergon/executor';
import { inSpan } from '../internal/telemetry.js';
import { runPool } from '../processes/process-pool.js';
import type { TaskContext, WorkerInfo } from '../task/context.js';
import type { RunSummary, TransactionOutcome } from '../task/outcome.js';
import { isTask, type Task } from '../task/task.js';
import { ThreadPool } from '../threads/thread-pool.js';
import { runConsumerLoop } from './consumer-loop.js';
import { RunControl } from './control.js';
import { startDependencies } from './dependencies.js';
import { runProducerLoop } from './producer-loop.js';
import { isTaskReference, loadTask, type TaskReference } from './reference.js';
import { onShutdownSignals } from './signals.js';
import type { LoopResult } from './tally.js';

/** Options of {@link runTask} and {@link startTask}. */
export interface RunOptions {
  /** Aborting it stops the run gracefully. */
  readonly signal?: AbortSignal;
  /** Stop on SIGINT/SIGTERM: the first drains, the second abandons (and requeues) in-flight work. Default true. */
  readonly handleSignals?: boolean;
  /** How long in-flight work may still run after a stop before it is abandoned and requeued. Default `'10s'`. */
  readonly shutdownTimeout?: Duration;
  /** Where the run logs (start, end, failed transactions). Default: nowhere. */
  readonly logger?: Logger;
  /** Called with every transaction's outcome (from every process of a pool). */
  readonly onOutcome?: (outcome: TransactionOutcome) => void;
  /** Processes to run the task in. Above 1 the task must be given as a {@link TaskReference}. Default 1. */
  readonly workers?: number;
  /**
   * With `workers` above 1: how many times each pool process that dies
   * without finishing (a crash, SIGKILL, the OOM killer) is replaced, with a
   * backoff, before the run fails. Default 3.
   */
  readonly restarts?: number;
  /** This process's place in a pool; set by the pool for its children. */
  readonly worker?: WorkerInfo;
  /**
   * Shows the run in a store's worker registry (`client.workers()`, `ergon workers`,
   * the dashboard) under the task's name, with its processed, succeeded, failed,
   * dead-lettered and requeued counts, heartbeating every `heartbeat` (default
   * `'500ms'`). For a run in this process (not with `workers` above 1).
   */
  readonly registry?: {
    /** The store whose registry shows the run. */
    readonly store: StoreInput;
    /** Registry id. Default `task:<name>:<host>:<pid>`. */
    readonly id?: string;
    /** Registry heartbeat interval. Default `'500ms'`. */
    readonly heartbeat?: Duration;
    /** Silence after which other workers declare this run dead. Default `'2s'`. */
    readonly lapse?: Duration;
  };
}

/** A running task. */
export interface TaskRun {
  /** Settles with the summary when the run ends. Never rejects: a failed run has `reason: 'failed'` and `error`. */
  readonly done: Promise<RunSummary>;
  /** Stops gracefully (fetching ends, in-flight work drains within the deadline). Resolves at the end. */
  stop(options?: { readonly timeout?: Duration }): Promise<RunSummary>;
  /** Abandons in-flight work now; it is requeued. Resolves at the end. */
  abort(): Promise<RunSummary>;
}

/**
 * Starts a task and returns at once.
 *
 * @throws InvalidArgumentError for bad options (before anything starts).
 */
export function startTask(task: Task | TaskReference, options: RunOptions = {}): TaskRun {
  const workers = options.workers ?? 1;
  if (!Number.isSafeInteger(workers) || workers < 1) {
    throw new InvalidArgumentError(`workers must be a whole number ≥ 1 (got ${String(workers)})`);
  }
  if (!isTask(task) && !isTaskReference(task)) {
    throw new InvalidArgumentError(
      'startTask needs a task (consumer(), producer(), hybrid()) or { module, export }',
    );
  }
  if (workers > 1 && !isTaskReference(task)) {
    throw new InvalidArgumentError(
      'a process pool loads the task in each child: pass { module: import.meta.url, export: "<name>" }, not the task object',
    );
  }
  if (options.registry !== undefined && workers > 1) {
    throw new InvalidArgumentError(
      'registry applies to a run in this process: give it to runTask in each process instead of with workers above 1',
    );
  }
  if (options.restarts !== undefined && (!Number.isSafeInteger(options.restarts) || options.restarts < 0)) {
    throw new InvalidArgumentError(`restarts must be a whole number ≥ 0 (got ${String(options.restarts)})`);
  }
  const shutdownMs = toMillis(options.shutdownTimeout ?? '10s', 'shutdownTimeout');
  const control = new RunControl(shutdownMs);
  const onAbort = () => control.stop('stopped');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const removeHandlers =
    options.handleSignals === false
      ? () => {}
      : onShutdownSignals(
          () => control.stop('stopped'),
          () => control.abort(),
        );
  const run =
    workers > 1
      ? runPool(task as TaskReference, { ...options, workers }, control)
      : runHere(task, options, control);
  const done = run.finally(() => {
    removeHandlers();
    options.signal?.removeEventListener('abort', onAbort);
    control.dispose();
  });
  return {
    done,
    stop: (stopOptions) => {
      const ms = stopOptions?.timeout === undefined ? shutdownMs : toMillis(stopOptions.timeout, 'timeout');
      control.stop('stopped', ms);
      return done;
    },
    abort: () => {
      control.abort();
      return done;
    },
  };
}

/** Runs a task until it ends (see {@link startTask}) and resolves with its summary. */
export function runTask(task: Task | TaskReference, options: RunOptions = {}): Promise<RunSummary> {
  return startTask(task, options).done;
}

async function runHere(
  source: Task | TaskReference,
  options: RunOptions,
  control: RunControl,
): Promise<RunSummary> {
  const started = performance.now();
  let name = isTask(source) ? source.name : String(source.export ?? 'default');
  const finish = (result: LoopResult, threads?: ThreadPool): RunSummary => ({
    task: name,
    ...result,
    durationMs: performance.now() - started,
    ...(threads ? { threads: threads.stats } : {}),
  });
  const failed = (error: unknown) =>
    finish({
      reason: 'failed',
      processed: 0,
      succeeded: 0,
      failed: 0,
      aborted: 0,
      fetches: 0,
      error: toError(error),
    });
  let task: Task;
  try {
    task = isTask(source) ? source : await loadTask(source);
  } catch (error) {
    return failed(error);
  }
  name = task.name;
  control.limitRun(task.policy.timeout);
  const logger = (options.logger ?? noopLogger).child({ 'ergon.task.name': task.name });
  const context: TaskContext = {
    task: task.name,
    connectors: task.connectors,
    services: task.services,
    policies: task.policies,
    logger,
    worker: options.worker ?? { index: 0, count: 1 },
  };
  let stopDependencies: () => Promise<void>;
  try {
    stopDependencies = await startDependencies(task, control.stopping, logger);
  } catch (error) {
    return failed(error);
  }
  const threads = task.model === 'threaded' ? new ThreadPool(task.policy.concurrency) : undefined;
  const counts = { processed: 0, succeeded: 0, failed: 0, deadLettered: 0, requeued: 0 };
  const presence = options.registry ? taskPresence(task, options.registry, counts, logger) : undefined;
  presence?.start();
  const onOutcome = (outcome: TransactionOutcome) => {
    counts.processed++;
    if (outcome.status === 'succeeded') counts.succeeded++;
    else if (outcome.status === 'failed') counts.failed++;
    if (outcome.settlement === 'dead-letter') counts.deadLettered++;
    else if (outcome.settlement === 'requeue') counts.requeued++;
    if (outcome.status === 'failed') {
      logger.warn(`task ${task.name}: transaction ${outcome.transactionId ?? '(unprepared)'} failed`, {
        stage: outcome.failedStage,
        error: outcome.error?.message,
        settlement: outcome.settlement,
      });
    }
    if (outcome.settleError)
      logger.warn(`task ${task.name}: settling failed`, { error: outcome.settleError.message });
    options.onOutcome?.(outcome);
  };
  // Each loop's env is a literal of its own, not a spread of a shared one (see consumer-loop.ts).
  const hardStop = control.hardScope;
  logger.info(`task ${task.name} started`, { kind: task.kind, model: task.model });
  try {
    const result = await inSpan('ergon.task', { 'ergon.task.name': task.name }, () =>
      task.kind === 'producer'
        ? runProducerLoop({ context, threads, hardStop, control, onOutcome, task })
        : runConsumerLoop({ context, threads, hardStop, control, onOutcome, task }),
    );
    const summary = finish(result, threads);
    logger.info(`task ${task.name} ended: ${summary.reason}`, { processed: summary.processed });
    return summary;
  } catch (error) {
    return finish(
      {
        reason: 'failed',
        processed: 0,
        succeeded: 0,
        failed: 0,
        aborted: 0,
        fetches: 0,
        error: toError(error),
      },
      threads,
    );
  } finally {
    await presence?.stop();
    await threads?.close();
    await stopDependencies();
  }
}

/** The run's presence in the worker registry, reporting `counts`. */
function taskPresence(
  task: Task,
  registry: NonNullable<RunOptions['registry']>,
  counts: Readonly<Record<string, number>>,
  logger: Logger,
): WorkerPresence {
  const startedAt = Date.now();
  const id = registry.id ?? `task:${task.name}:${WORKER_HOST}:${process.pid}`;
  return new WorkerPresence({
    store: runtimeStore(registry.store),
    clock: systemClock,
    logger,
    heartbeatMs: toMillis(registry.heartbeat ?? '500ms', 'registry heartbeat'),
    lapseMs: toMillis(registry.lapse ?? '2s', 'registry lapse'),
    info: () => ({
      id,
      kind: 'task',
      name: task.name,
      host: WORKER_HOST,
      pid: process.pid,
      queues: [],
      types: [],
      concurrency: task.policy.concurrency,
      startedAt,
      stats: JSON.stringify(counts),
    }),
    onReaped: () => {},
  });
}
