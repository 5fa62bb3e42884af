/**
 * The program of each child of a process pool: says it is ready, waits for
 * its `run` message, loads the task by module and export, runs it in this
 * process (handling SIGINT/SIGTERM itself), streams outcomes if asked, and
 * reports its summary. The parent's `stop`/`abort` messages and a lost
 * parent stop it too.
 *
 * @module
 */
import {
  encodeReport,
  type ReportMessage,
  type RunMessage,
  type StopMessage,
} from '../processes/messages.js';
import { startTask, type TaskRun } from '../runner/run-task.js';
import type { RunSummary } from '../task/outcome.js';

let run: TaskRun | undefined;
let stoppedEarly = false;

function send(message: ReportMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function finish(summary: RunSummary): Promise<void> {
  await send({ type: 'summary', data: encodeReport(summary) });
  process.exitCode = summary.reason === 'failed' ? 1 : 0;
  if (process.connected) process.disconnect();
}

function start(message: RunMessage): void {
  run = startTask(
    { module: message.module, export: message.export },
    {
      shutdownTimeout: message.shutdownTimeoutMs,
      worker: message.worker,
      ...(message.forwardOutcomes
        ? { onOutcome: (outcome) => void send({ type: 'outcome', data: encodeReport(outcome) }) }
        : {}),
    },
  );
  void run.done.then(finish);
}

process.on('message', (message: RunMessage | StopMessage) => {
  if (message.type === 'run' && !run && !stoppedEarly) start(message);
  else if (message.type === 'stop' || message.type === 'abort') {
    if (run) void (message.type === 'stop' ? run.stop() : run.abort());
    else if (!stoppedEarly) {
      stoppedEarly = true;
      const empty = { processed: 0, succeeded: 0, failed: 0, aborted: 0, fetches: 0, durationMs: 0 };
      void finish({ task: 'unknown', reason: 'stopped', ...empty });
    }
  }
});
process.once('disconnect', () => void run?.stop());
void send({ type: 'ready' });
