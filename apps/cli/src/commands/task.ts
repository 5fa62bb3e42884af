/**
 * `ergon task run <module>`: run a transaction task (consumer, producer or
 * hybrid) until its source drains or SIGINT/SIGTERM, in this process or a
 * pool of them. `ergon task process <module>`: one transaction through the
 * task's lifecycle, given by payload or looked up by id, for debugging.
 *
 * @module
 */
import { formatDuration } from '@ergon/core';
import type { RunSummary, TransactionOutcome } from '@ergon/tasks';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError, ExitCode, usageError } from '../errors.js';
import { errorText, preview } from '../format.js';
import { type LoadedTask, loadTaskModule } from '../load-task.js';
import type { Output } from '../output.js';
import { durationText, parseJson, readJsonFile, wholeNumber } from '../parse.js';
import { startCounter } from '../progress.js';
import { Session } from '../session.js';

interface RunCommandOptions {
  readonly export?: string;
  readonly workers: number;
  readonly restarts: number;
  readonly shutdownTimeout: string;
}

interface ProcessCommandOptions {
  readonly export?: string;
  readonly payload?: string;
  readonly payloadFile?: string;
  readonly id?: string;
  readonly connector?: string;
}

const MODULE_HELP = 'JavaScript module exporting the task (path relative to the working directory)';
const EXPORT_HELP = 'the export holding the task (default: the default export, or the only task exported)';

/** Adds `task run` and `task process` to `program`. */
export function registerTask(program: Command): void {
  const task = program
    .command('task')
    .description('run a transaction task from a module, or process one transaction through it');

  task
    .command('run')
    .description('run a consumer, producer or hybrid task until its source drains, or until SIGINT/SIGTERM')
    .argument('<module>', MODULE_HELP)
    .option('--export <name>', EXPORT_HELP)
    .option(
      '--workers <n>',
      'processes to run the task in (a pool; each loads the module)',
      wholeNumber(1),
      1,
    )
    .option(
      '--shutdown-timeout <duration>',
      'on stop, how long in-flight transactions may take before they are requeued',
      durationText,
      '10s',
    )
    .addHelpText(
      'after',
      '\nThe task uses its own connectors, services and policies (a continuous consumer runs until stopped).\n' +
        'Output: a summary at the end; failed transactions as warnings on stderr (--json: one JSON object per line,\n' +
        "an `outcome` per transaction and a final `summary`). Failed transactions are the task lifecycle's\n" +
        'business (retried, then nacked or dead-lettered): the exit code is 1 only when the run itself failed.\n' +
        'Stop with Ctrl-C or SIGTERM: the first drains in-flight work, a second requeues it at once.',
    )
    .action(async (modulePath: string, options: RunCommandOptions, command: Command) => {
      const session = Session.of(command);
      const loaded = await loadTaskModule(modulePath, options.export);
      await runLoadedTask(session, loaded, options);
    });

  task
    .command('process')
    .description('process one transaction through a task, given by payload or looked up by id (debugging)')
    .argument('<module>', MODULE_HELP)
    .option('--export <name>', EXPORT_HELP)
    .option('--payload <json>', 'the payload of a new transaction (for a producer: the item)')
    .option('--payload-file <file>', 'read the payload JSON from a file (- for stdin)')
    .option(
      '--id <id>',
      "with a payload: the new transaction's id; alone: process the transaction with this id from the task's source again",
    )
    .option('--connector <name>', "with --id alone: the connector to look in (default: the task's source)")
    .addHelpText(
      'after',
      '\nThe transaction runs through the whole lifecycle (process, success or exception handlers, with their\n' +
        'retries and timeouts) but is not acked or nacked: the source is left as it is. With a durable task the\n' +
        'transaction is the flow with its id: a finished one returns its recorded result, nothing runs twice.\n' +
        'Exit code 3 when the transaction failed.',
    )
    .action(async (modulePath: string, options: ProcessCommandOptions, command: Command) => {
      const session = Session.of(command);
      if (options.payload !== undefined && options.payloadFile !== undefined) {
        throw usageError('give --payload or --payload-file, not both');
      }
      const payload =
        options.payload !== undefined
          ? parseJson(options.payload, '--payload')
          : options.payloadFile !== undefined
            ? readJsonFile(options.payloadFile, '--payload-file')
            : undefined;
      const given = options.payload !== undefined || options.payloadFile !== undefined;
      if (!given && options.id === undefined) {
        throw usageError(
          'give the transaction: --payload <json>, --payload-file <file>, or --id <id> to look it up',
        );
      }
      if (given && options.connector !== undefined) {
        throw usageError('--connector names where to look a transaction up: use it with --id alone');
      }
      const { task } = await loadTaskModule(modulePath, options.export);
      if (task.kind === 'producer' && !given) {
        throw usageError(`task '${task.name}' is a producer: give the item to produce with --payload`);
      }
      if (task.kind === 'producer' && options.id !== undefined) {
        throw usageError(`task '${task.name}' is a producer: its transactions get their ids when prepared`);
      }
      const abort = new AbortController();
      const onSignal = () => abort.abort(new CliError('interrupted', { exitCode: ExitCode.INTERRUPTED }));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const { findTransaction, processOne } = await import('@ergon/tasks');
        const processing = { signal: abort.signal, logger: session.logger };
        let outcome: TransactionOutcome;
        if (task.kind === 'producer') outcome = await processOne(task, payload, processing);
        else if (given) {
          outcome = await processOne(
            task,
            { payload, ...(options.id ? { id: options.id } : {}) },
            processing,
          );
        } else {
          const id = options.id as string;
          const found = await findTransaction(task, id, {
            signal: abort.signal,
            ...(options.connector ? { connector: options.connector } : {}),
          });
          if (found === undefined) {
            throw new CliError(
              `no transaction '${id}' in connector '${options.connector ?? task.source}' of task '${task.name}'`,
            );
          }
          outcome = await processOne(task, found, processing);
        }
        reportOutcome(session.out, outcome);
        if (outcome.status === 'failed') process.exitCode = ExitCode.TRANSACTION_FAILED;
        else if (outcome.status === 'aborted') process.exitCode = ExitCode.INTERRUPTED;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

async function runLoadedTask(
  session: Session,
  loaded: LoadedTask,
  options: RunCommandOptions,
): Promise<void> {
  const { out } = session;
  const { task } = loaded;
  if (out.json) out.event({ event: 'started', task: task.name, kind: task.kind, workers: options.workers });
  else {
    out.note(
      `task ${task.name} (${task.kind}, export ${loaded.exportName} of ${fileURLToPath(loaded.module)})` +
        `${options.workers > 1 ? ` in ${options.workers} processes` : ''}. Ctrl-C to stop.`,
    );
  }
  const counter = startCounter(out, task.name);
  let done = 0;
  let failed = 0;
  let summary: RunSummary;
  try {
    const { runTask } = await import('@ergon/tasks');
    summary = await runTask(
      options.workers > 1 ? { module: loaded.module, export: loaded.exportName } : task,
      {
        workers: options.workers,
        restarts: options.restarts,
        shutdownTimeout: options.shutdownTimeout,
        logger: session.logger,
        onOutcome: (outcome) => {
          done++;
          if (outcome.status !== 'succeeded') failed++;
          counter.update(done, failed);
          reportRunOutcome(out, outcome);
        },
      },
    );
  } finally {
    counter.stop();
  }
  const { error, workers, ...totals } = summary;
  if (out.json) {
    out.event({
      event: 'summary',
      ...totals,
      ...(error ? { error } : {}),
      ...(workers ? { workers: workers.map(({ summary: _, ...w }) => w) } : {}),
    });
  } else {
    out.text(
      `task ${summary.task} ${summary.reason}: ${summary.processed} processed (${summary.succeeded} succeeded, ` +
        `${summary.failed} failed, ${summary.aborted} requeued) in ${formatDuration(summary.durationMs)}`,
    );
    for (const w of workers ?? []) {
      const end = w.signal ? `killed by ${w.signal}` : `exit ${w.exitCode}`;
      const replaced = w.restarts > 0 ? `, replaced ${w.restarts}× after dying` : '';
      out.text(
        `  process ${w.index} (pid ${w.pid}): ${w.summary?.processed ?? '?'} processed, ${end}${replaced}`,
      );
    }
  }
  if (summary.reason === 'failed') {
    throw new CliError(`task ${summary.task} failed: ${errorText(error, 300)}`, { cause: error });
  }
}

/** During a run, under `--json`: every outcome (people see failures as warnings on stderr). */
function reportRunOutcome(out: Output, outcome: TransactionOutcome): void {
  if (!out.json) return;
  out.event({
    event: 'outcome',
    time: new Date().toISOString(),
    transactionId: outcome.transactionId,
    status: outcome.status,
    settlement: outcome.settlement,
    durationMs: outcome.durationMs,
    ...(outcome.error ? { error: outcome.error, failedStage: outcome.failedStage } : {}),
  });
}

/** The outcome of `task process`: a JSON document, or a few lines. */
function reportOutcome(out: Output, outcome: TransactionOutcome): void {
  out.data({
    transactionId: outcome.transactionId,
    status: outcome.status,
    ...(outcome.status === 'succeeded' ? { result: outcome.result } : {}),
    ...(outcome.error ? { error: outcome.error, failedStage: outcome.failedStage } : {}),
    stages: outcome.stages,
    attempts: outcome.attempts,
    settlement: outcome.settlement,
    durationMs: outcome.durationMs,
  });
  const stages = outcome.stages.map((stage) => `${stage} ×${outcome.attempts[stage] ?? 1}`).join(', ');
  const head = `transaction ${outcome.transactionId ?? '(no id)'}: ${outcome.status}`;
  const took = `in ${formatDuration(outcome.durationMs)} (${stages || 'no stage ran'})`;
  if (outcome.status === 'succeeded') {
    out.text(`${head} ${took}\nresult: ${preview(outcome.result, 2000)}`);
  } else {
    out.text(
      `${head}${outcome.failedStage ? ` at ${outcome.failedStage}` : ''} ${took}\nerror: ${errorText(outcome.error, 2000)}`,
    );
  }
}
