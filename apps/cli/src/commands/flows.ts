/**
 * `ergon flows list | show | wait`: look at flows, and wait for them.
 *
 * @module
 */
import { type FlowRecord, type FlowStatus, isTerminalStatus, toMillis } from '@ergon/core';
import type { Command } from 'commander';
import { dagsOf } from '../dag-view.js';
import { usageError } from '../errors.js';
import { reportFinished } from '../finished.js';
import { localTime } from '../format.js';
import { renderTable } from '../output.js';
import { durationText, statusList, wholeNumber } from '../parse.js';
import { startProgress } from '../progress.js';
import { Session } from '../session.js';
import { registerFlowTransfer } from './flows-transfer.js';
import { flowJson, flowSummaryJson, renderFlow } from '../show-flow.js';
import { drainFlows, waitForFlows } from '../wait.js';

interface ListOptions {
  readonly status?: FlowStatus[];
  readonly type?: string;
  readonly queue?: string;
  readonly limit: number;
  readonly cursor?: string;
}

interface WaitCommandOptions {
  readonly all?: boolean;
  readonly type?: string;
  readonly timeout?: string;
}

/** Adds `flows` and its subcommands to `program`. */
export function registerFlows(program: Command): void {
  const flows = program.command('flows').description('list, show, wait for, export and import flows');
  registerFlowTransfer(flows);

  flows
    .command('list')
    .description('list flows, newest first')
    .option('--status <statuses>', 'only these statuses (comma-separated or repeated)', statusList)
    .option('--type <type>', 'only this flow type')
    .option('--queue <queue>', 'only this queue')
    .option('--limit <n>', 'page size (at most 1000)', wholeNumber(1), 50)
    .option('--cursor <cursor>', 'the next page, as printed after the previous one')
    .action(async (options: ListOptions, command: Command) => {
      const session = Session.of(command);
      const page = await session.withClient('read', (client) =>
        client.list({
          status: options.status,
          type: options.type,
          queue: options.queue,
          limit: options.limit,
          cursor: options.cursor,
        }),
      );
      session.out.data({ flows: page.flows.map(flowSummaryJson), nextCursor: page.nextCursor });
      if (page.flows.length === 0) {
        session.out.text('no flows');
        return;
      }
      const rows = page.flows.map((f) => [
        f.id,
        f.type,
        f.waitingFor === undefined ? f.status : `${f.status} (${f.waitingFor})`,
        String(f.runCount),
        localTime(f.createdAt),
        localTime(f.finishedAt),
      ]);
      session.out.text(renderTable(['id', 'type', 'status', 'runs', 'created', 'finished'], rows));
      if (page.nextCursor !== undefined)
        session.out.text(`more: ergon flows list --cursor ${page.nextCursor}`);
    });

  flows
    .command('show')
    .description('one flow: summary, history, pending waits, buffered signals and DAGs')
    .argument('<id>', 'flow id')
    .option('--ascii', 'draw DAGs with ASCII characters only')
    .action(async (id: string, options: { ascii?: boolean }, command: Command) => {
      const session = Session.of(command);
      const info = await session.withClient('read', (client) => client.get(id));
      const dags = dagsOf(info.history, !isTerminalStatus(info.status));
      session.out.data(flowJson(info, dags));
      session.out.text(renderFlow(info, dags, options.ascii ? 'ascii' : 'unicode'));
    });

  flows
    .command('wait')
    .description('wait until flows finish, with a progress bar; exit code 3 if any failed or was cancelled')
    .argument('[ids...]', 'flow ids to wait for')
    .option('--all', 'drain: wait until no flow is pending, running or suspended')
    .option('--type <type>', 'with --all: only flows of this type')
    .option('--timeout <duration>', 'give up after this long (exit code 1)', durationText)
    .action(async (ids: string[], options: WaitCommandOptions, command: Command) => {
      const session = Session.of(command);
      if (options.all === true && ids.length > 0) throw usageError('give flow ids or --all, not both');
      if (options.all !== true && ids.length === 0) throw usageError('give flow ids to wait for, or --all');
      if (options.type !== undefined && options.all !== true)
        throw usageError('--type applies to --all only');
      const timeoutMs = options.timeout === undefined ? undefined : toMillis(options.timeout);
      const unique = [...new Set(ids)];
      const records = await session.withClient('existing', async (_client, store) => {
        const progress = startProgress(session.out, {
          label: options.all ? 'draining' : 'waiting ',
          total: unique.length,
        });
        const onProgress = (done: number, total: number) => {
          progress.setTotal(total);
          progress.update(done);
        };
        try {
          if (options.all) {
            const seen = await drainFlows(store, { type: options.type, timeoutMs, onProgress });
            const found = await Promise.all(seen.map((fid) => store.getFlow(fid)));
            return found.filter((f): f is FlowRecord => f !== undefined);
          }
          const done = await waitForFlows(store, unique, { timeoutMs, onProgress });
          return unique.map((fid) => done.get(fid)).filter((f): f is FlowRecord => f !== undefined);
        } finally {
          progress.stop();
        }
      });
      if (records.length === 0) {
        session.out.data({ flows: [], counts: {} });
        session.out.text('no unfinished flows');
        return;
      }
      process.exitCode = reportFinished(session.out, records);
    });
}
