/**
 * `ergon worker <module>`: run the module's flows from the store until
 * SIGINT or SIGTERM, then stop gracefully (in-flight runs finish or have
 * their leases released so another worker resumes them at once).
 *
 * @module
 */
import { formatDuration, toMillis } from '@ergon/core';
import { type RunOutcome, Worker } from '@ergon/executor';
import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { errorText } from '../format.js';
import { loadFlows } from '../load-flows.js';
import { collectList, durationText, wholeNumber } from '../parse.js';
import { Session } from '../session.js';
import { describeStore } from '../store.js';

interface WorkerCommandOptions {
  readonly concurrency: number;
  readonly queue?: string[];
  readonly id?: string;
  readonly lease?: string;
  readonly shutdownTimeout: string;
}

// A worker's store calls are long-lived: the store's usual bound, not a one-shot command's.
const WORKER_REDIS_TIMEOUT_MS = 10_000;

/** Adds `worker` to `program`. */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the flows a module exports until SIGINT or SIGTERM')
    .argument('<module>', 'JavaScript module exporting flows (path relative to the working directory)')
    .option('--concurrency <n>', 'flows running at once', wholeNumber(1), 10)
    .option(
      '--queue <queue>',
      'claim from this queue (repeatable or comma-separated; default: default)',
      collectList,
    )
    .option('--id <id>', 'worker id, shown as lease owner (default: host-pid-random)')
    .option(
      '--lease <duration>',
      "lease length: a crashed worker's flows resume elsewhere after it",
      durationText,
    )
    .option(
      '--shutdown-timeout <duration>',
      'on stop, how long running flows may take to finish',
      durationText,
      '10s',
    )
    .addHelpText(
      'after',
      '\nThe module exports flow(...) definitions, classes with a @Flow() method, and/or a `flows` array.\n' +
        'Output: one line per flow run that leaves this worker (--json: one JSON object per line).\n' +
        'Stop with Ctrl-C or SIGTERM; a second signal exits at once (leases then expire on their own).',
    )
    .action(async (modulePath: string, options: WorkerCommandOptions, command: Command) => {
      const session = Session.of(command);
      const registry = await loadFlows(modulePath);
      const store = await session.open('create', { redisTimeoutMs: WORKER_REDIS_TIMEOUT_MS });
      const { out } = session;
      const worker = new Worker({
        store,
        flows: [...registry.values()],
        id: options.id,
        queues: options.queue,
        concurrency: options.concurrency,
        lease: options.lease,
        logger: session.logger,
        onOutcome: (flowId, outcome) => report(session, flowId, outcome),
      });
      const flows = [...registry.keys()];
      const queues = options.queue ?? ['default'];
      worker.start();
      if (out.json)
        out.event({ event: 'started', workerId: worker.id, flows, queues, concurrency: options.concurrency });
      else {
        out.note(
          `worker ${worker.id} on ${describeStore(session.spec)}: flows ${flows.join(', ')}; ` +
            `queues ${queues.join(', ')}; concurrency ${options.concurrency}. Ctrl-C to stop.`,
        );
      }
      await untilStopSignal(async (signal) => {
        const timeoutMs = toMillis(options.shutdownTimeout);
        if (!out.json) {
          out.note(
            `${signal}: stopping (up to ${formatDuration(timeoutMs)} for ${worker.active} running flows; again to force)`,
          );
        }
        await worker.stop({ timeout: timeoutMs });
        await store.close().catch(() => {});
        if (out.json) out.event({ event: 'stopped', workerId: worker.id, signal });
        else out.note(`worker ${worker.id} stopped`);
      });
    });
}

/** Resolves after `stop` ran for the first SIGINT/SIGTERM; a second one exits at once. */
function untilStopSignal(stop: (signal: NodeJS.Signals) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    // The worker's own timers keep the process alive, but not while it is idle on some stores.
    const keepAlive = setInterval(() => {}, 1 << 30);
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.exit(ExitCode.INTERRUPTED);
      }
      stopping = true;
      stop(signal)
        .then(resolve, reject)
        .finally(() => {
          clearInterval(keepAlive);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function report(session: Session, flowId: string, outcome: RunOutcome): void {
  const { out } = session;
  const time = new Date().toISOString();
  if (out.json) {
    const extra =
      outcome.status === 'failed' || outcome.status === 'abandoned'
        ? { error: outcome.error }
        : outcome.status === 'suspended'
          ? { waits: outcome.waits }
          : {};
    out.event({ event: 'outcome', time, flowId, status: outcome.status, ...extra });
    return;
  }
  const detail =
    outcome.status === 'failed' || outcome.status === 'abandoned'
      ? `: ${errorText(outcome.error, 200)}`
      : outcome.status === 'suspended'
        ? ` (waiting for ${outcome.waits.map((w) => (w.kind === 'signal' ? `signal '${w.name}'` : w.kind)).join(', ')})`
        : '';
  out.text(`${time} ${outcome.status.padEnd(9)} ${flowId}${detail}`);
}
