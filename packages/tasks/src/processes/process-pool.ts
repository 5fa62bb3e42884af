/**
 * The process pool (`workers: n`): n child processes, each running the task
 * (loaded from its module) with its own connectors, threads and signal
 * handling. Transports share work between them (queues, or the file
 * connector's claims). The pool forwards stops, replaces children that die,
 * enforces the shutdown deadline with SIGKILL as a last resort, and adds the
 * children's summaries up.
 *
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ErgonError, ErrorCode, noopLogger, RetryPolicy } from '@ergon/core';
import { entryUrl } from '../internal/entry.js';
import type { RunControl } from '../runner/control.js';
import { moduleUrl, type TaskReference } from '../runner/reference.js';
import type { RunOptions } from '../runner/run-task.js';
import type { RunSummary, TransactionOutcome, WorkerSummary } from '../task/outcome.js';
import { decodeReport, type ReportMessage, type RunMessage } from './messages.js';

const KILL_GRACE_MS = 5000;
/** Backoff before replacing a dead worker process: 200 ms doubling to 5 s. */
const RESTART_DELAY = new RetryPolicy({
  maxAttempts: Number.POSITIVE_INFINITY,
  initialDelay: '200ms',
  maxDelay: '5s',
});

/** How one child process ended. */
interface ChildEnd {
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: string | null;
  readonly summary?: RunSummary;
}

/**
 * Runs `reference` in `options.workers` child processes until all of them
 * end. A child that dies without reporting its summary (a crash, SIGKILL,
 * the OOM killer) is replaced in its slot, up to `options.restarts` times per
 * slot, unless the run is stopping; the transport hands the dead child's
 * unfinished work to the others (or to its replacement).
 */
export async function runPool(
  reference: TaskReference,
  options: RunOptions & { readonly workers: number },
  control: RunControl,
): Promise<RunSummary> {
  const started = performance.now();
  const shutdownTimeoutMs = control.shutdownMs;
  const entry = fileURLToPath(entryUrl('process-entry'));
  const maxRestarts = options.restarts ?? 3;
  const logger = options.logger ?? noopLogger;
  const live = new Set<ChildProcess>();
  const tell = (type: 'stop' | 'abort') => {
    for (const child of live) if (child.connected) child.send({ type }, () => undefined);
  };

  const runChild = async (index: number): Promise<ChildEnd> => {
    const child = fork(entry, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    live.add(child);
    let summary: RunSummary | undefined;
    const run: RunMessage = {
      type: 'run',
      module: moduleUrl(reference),
      export: reference.export ?? 'default',
      shutdownTimeoutMs,
      worker: { index, count: options.workers },
      forwardOutcomes: options.onOutcome !== undefined,
    };
    child.on('message', (message: ReportMessage) => {
      if (message.type === 'ready') {
        child.send(run);
        // A replacement that starts during a stop stops at once.
        if (control.hardStop.aborted) child.send({ type: 'abort' }, () => undefined);
        else if (control.stopping.aborted) child.send({ type: 'stop' }, () => undefined);
      } else if (message.type === 'summary') summary = decodeReport<RunSummary>(message.data);
      else if (message.type === 'outcome')
        options.onOutcome?.(decodeReport<TransactionOutcome>(message.data));
    });
    const [code, signal] = await once(child, 'exit');
    live.delete(child);
    return {
      pid: child.pid,
      code: code as number | null,
      signal: signal as string | null,
      ...(summary ? { summary } : {}),
    };
  };

  const runSlot = async (index: number): Promise<WorkerSummary> => {
    for (let restarts = 0; ; restarts++) {
      const end = await runChild(index);
      const stopping = control.stopping.aborted || control.hardStop.aborted;
      if (end.summary || stopping || restarts >= maxRestarts) {
        return {
          index,
          pid: end.pid,
          exitCode: end.code,
          signal: end.signal,
          restarts,
          ...(end.summary ? { summary: end.summary } : {}),
        };
      }
      const delayMs = Math.round(RESTART_DELAY.delayAfter(restarts + 1));
      logger.warn(
        `pool worker ${index} (pid ${end.pid}) died without finishing (exit code ${end.code}, signal ${end.signal}); ` +
          `replacing it in ${delayMs} ms (restart ${restarts + 1} of ${maxRestarts})`,
      );
      await delay(delayMs, undefined, { signal: control.stopping }).catch(() => undefined);
      if (control.stopping.aborted) {
        return { index, pid: end.pid, exitCode: end.code, signal: end.signal, restarts };
      }
    }
  };

  control.stopping.addEventListener('abort', () => tell('stop'), { once: true });
  let killer: NodeJS.Timeout | undefined;
  control.hardStop.addEventListener(
    'abort',
    () => {
      tell('abort');
      killer = setTimeout(() => {
        for (const child of live) if (child.exitCode === null) child.kill('SIGKILL');
      }, KILL_GRACE_MS);
    },
    { once: true },
  );
  const workers = await Promise.all(Array.from({ length: options.workers }, (_, index) => runSlot(index)));
  clearTimeout(killer);
  return combine(reference, workers, control, performance.now() - started);
}

function combine(
  reference: TaskReference,
  workers: WorkerSummary[],
  control: RunControl,
  durationMs: number,
): RunSummary {
  const sum = (field: 'processed' | 'succeeded' | 'failed' | 'aborted' | 'fetches') =>
    workers.reduce((total, w) => total + (w.summary?.[field] ?? 0), 0);
  const broken = workers.find((w) => !w.summary || w.summary.reason === 'failed');
  const error = broken
    ? (broken.summary?.error ??
      new ErgonError(
        ErrorCode.INTERNAL,
        `pool worker ${broken.index} (pid ${broken.pid}) ended without a summary (exit code ${broken.exitCode}, signal ${broken.signal})`,
      ))
    : undefined;
  return {
    task: workers.find((w) => w.summary)?.summary?.task ?? String(reference.export ?? 'default'),
    reason: control.reason ?? (error ? 'failed' : (workers[0]?.summary?.reason ?? 'drained')),
    processed: sum('processed'),
    succeeded: sum('succeeded'),
    failed: sum('failed'),
    aborted: sum('aborted'),
    fetches: sum('fetches'),
    durationMs,
    ...(error ? { error } : {}),
    workers,
  };
}
