/**
 * The `ergon` command line: global options and every command.
 *
 * @module
 */
import { Command, Option } from 'commander';
import { registerControl } from './commands/control.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerFlows } from './commands/flows.js';
import { registerFork } from './commands/fork.js';
import { registerReplayCheck } from './commands/replay-check.js';
import { registerSchedule } from './commands/schedule.js';
import { registerQueues } from './commands/queues.js';
import { registerSchedules } from './commands/schedules.js';
import { registerTask } from './commands/task.js';
import { registerWorker } from './commands/worker.js';
import { registerWorkers } from './commands/workers.js';
import { DEFAULT_STORE } from './store.js';

/** Where commander writes help and its own errors (tests pass their own). */
export interface ProgramOutput {
  readonly writeOut: (text: string) => void;
  readonly writeErr: (text: string) => void;
}

/**
 * Builds the program. Commander's own errors (unknown option, missing
 * argument) are written through `output` and thrown as `CommanderError`
 * instead of exiting, so the caller decides the exit code.
 */
export function createProgram(output?: ProgramOutput): Command {
  const program = new Command('ergon')
    .description(
      'Ergon: run workers and tasks, schedule, signal, cancel, retry and inspect durable flows, process one transaction',
    )
    .version('0.0.0', '-V, --version')
    .addOption(
      new Option(
        '--store <spec>',
        `store: sqlite:./file.db, redis://host:port[/db] or postgres://user@host:port/db[?schema=name] (default ${DEFAULT_STORE})`,
      ).env('ERGON_STORE'),
    )
    .option('--prefix <prefix>', 'Redis key prefix (default ergon)')
    .option('--json', 'machine output: JSON only on stdout')
    .option('--verbose', 'show stack traces and debug logs')
    .exitOverride()
    .configureOutput({
      ...output,
      // One line per error, suggestions ("Did you mean …?") included.
      outputError: (text, write) => write(`${text.trim().replace(/\s*\n\s*/g, ' ')} (see --help)\n`),
    });
  program.addHelpText(
    'after',
    '\nGlobal options may also follow the command (ergon flows list --json).\n' +
      'Exit codes: 0 ok, 1 error, 2 bad command line, 3 a waited-for flow failed or was cancelled,\n' +
      'or the transaction `task process` ran failed, 4 `replay-check` found flows the code does not replay.',
  );
  registerWorker(program);
  registerWorkers(program);
  registerSchedule(program);
  registerSchedules(program);
  registerQueues(program);
  registerFlows(program);
  registerControl(program);
  registerFork(program);
  registerReplayCheck(program);
  registerTask(program);
  registerDashboard(program);
  return program;
}
