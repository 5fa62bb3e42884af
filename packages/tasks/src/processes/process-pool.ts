/**
 * The process pool (`workers: n`): n child processes, each running the task
 * (loaded from its module) with its own connectors, threads and signal
 * handling. Transports share work between them (queues, or the file
 * connector's claims). The pool forwards stops, enforces the shutdown
 * deadline with SIGKILL as a last resort, and adds the children's summaries up.
 *
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ErgonError, ErrorCode } from '@ergon/core';
import { entryUrl } from '../internal/entry.js';
import type { RunControl } from '../runner/control.js';
import { moduleUrl, type TaskReference } from '../runner/reference.js';
import type { RunOptions } from '../runner/run-task.js';
import type { RunSummary, TransactionOutcome, WorkerSummary } from '../task/outcome.js';
import { decodeReport, type ReportMessage, type RunMessage } from './messages.js';

const KILL_GRACE_MS = 5000;

/** Runs `reference` in `options.workers` child processes until all of them end. */
export async function runPool(
  reference: TaskReference,
  options: RunOptions & { readonly workers: number },
  control: RunControl,
): Promise<RunSummary> {
  const started = performance.now();
  const shutdownTimeoutMs = control.shutdownMs;
  const entry = fileURLToPath(entryUrl('process-entry'));
  const children = Array.from({ length: options.workers }, (_, index) => {
    const child = fork(entry, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const slot: { child: ChildProcess; summary?: RunSummary } = { child };
    const run: RunMessage = {
      type: 'run',
      module: moduleUrl(reference),
      export: reference.export ?? 'default',
      shutdownTimeoutMs,
      worker: { index, count: options.workers },
      forwardOutcomes: options.onOutcome !== undefined,
    };
    child.on('message', (message: ReportMessage) => {
      if (message.type === 'ready') child.send(run);
      else if (message.type === 'summary') slot.summary = decodeReport<RunSummary>(message.data);
      else if (message.type === 'outcome')
        options.onOutcome?.(decodeReport<TransactionOutcome>(message.data));
    });
    return slot;
  });
  const tell = (type: 'stop' | 'abort') => {
    for (const { child } of children) if (child.connected) child.send({ type }, () => undefined);
  };
  control.stopping.addEventListener('abort', () => tell('stop'), { once: true });
  let killer: NodeJS.Timeout | undefined;
  control.hardStop.addEventListener(
    'abort',
    () => {
      tell('abort');
      killer = setTimeout(() => {
        for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
      }, KILL_GRACE_MS);
    },
    { once: true },
  );
  const exits = await Promise.all(
    children.map(async ({ child }) => {
      const [code, signal] = child.exitCode !== null ? [child.exitCode, null] : await once(child, 'exit');
      return { code: code as number | null, signal: signal as string | null };
    }),
  );
  clearTimeout(killer);
  const workers: WorkerSummary[] = children.map((slot, index) => ({
    index,
    pid: slot.child.pid,
    exitCode: exits[index]?.code ?? null,
    signal: exits[index]?.signal ?? null,
    ...(slot.summary ? { summary: slot.summary } : {}),
  }));
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
