/**
 * `ergon schedule <module> <flowType>`: create one flow, or many with a
 * progress bar, and optionally wait for them to finish.
 *
 * @module
 */
import { type FlowRecord, toMillis } from '@ergon/core';
import type { AnyFlowDefinition, Client } from '@ergon/executor';
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { reportFinished } from '../finished.js';
import { findFlow, loadFlows } from '../load-flows.js';
import { durationText, parseJson, readJsonFile, wholeNumber } from '../parse.js';
import { startProgress } from '../progress.js';
import { Session } from '../session.js';
import { waitForFlows } from '../wait.js';

interface ScheduleCommandOptions {
  readonly input?: string;
  readonly inputFile?: string;
  readonly id?: string;
  readonly queue?: string;
  readonly delay?: string;
  readonly priority?: number;
  readonly count?: number;
  readonly wait?: boolean;
  readonly timeout?: string;
}

/** Adds `schedule` to `program`. */
export function registerSchedule(program: Command): void {
  program
    .command('schedule')
    .description('schedule a flow defined in a module (idempotent by --id)')
    .argument('<module>', 'JavaScript module exporting the flow (path relative to the working directory)')
    .argument('<flowType>', 'the flow type name')
    .option('--input <json>', 'the flow input, as JSON')
    .option('--input-file <file>', 'read the input JSON from a file (- for stdin)')
    .option('--id <id>', 'flow id (scheduling an existing id does nothing); with --count, the id prefix')
    .option('--queue <queue>', "queue (default: the flow's)")
    .option('--delay <duration>', 'start no earlier than this from now (30s, 5m, 2h)', durationText)
    .option('--priority <n>', 'higher runs first', wholeNumber(0))
    .option('--count <n>', 'schedule n copies, with ids <id>-1 … <id>-n, showing progress', wholeNumber(1))
    .option('--wait', 'wait for the flow(s) to finish and print the result; exit code 3 if not completed')
    .option('--timeout <duration>', 'with --wait: give up after this long', durationText)
    .action(
      async (modulePath: string, flowType: string, options: ScheduleCommandOptions, command: Command) => {
        const session = Session.of(command);
        if (options.input !== undefined && options.inputFile !== undefined) {
          throw usageError('give --input or --input-file, not both');
        }
        if (options.timeout !== undefined && options.wait !== true)
          throw usageError('--timeout needs --wait');
        const input =
          options.input !== undefined
            ? parseJson(options.input, '--input')
            : options.inputFile !== undefined
              ? readJsonFile(options.inputFile, '--input-file')
              : undefined;
        const definition = findFlow(await loadFlows(modulePath), flowType, modulePath);
        const count = options.count;
        const ids = count === undefined ? [options.id] : idsFor(options.id, count);
        await session.withClient('create', async (client, store) => {
          const scheduled = await scheduleAll(session, client, definition, input, ids, options);
          if (options.wait !== true) return;
          const timeoutMs = options.timeout === undefined ? undefined : toMillis(options.timeout);
          const progress =
            ids.length > 1
              ? startProgress(session.out, { label: 'waiting   ', total: ids.length })
              : undefined;
          let done: Map<string, FlowRecord>;
          try {
            done = await waitForFlows(store, scheduled, {
              timeoutMs,
              onProgress: (value) => progress?.update(value),
            });
          } finally {
            progress?.stop();
          }
          process.exitCode = reportFinished(
            session.out,
            scheduled.map((id) => done.get(id)).filter((f): f is FlowRecord => f !== undefined),
          );
        });
      },
    );
}

function idsFor(prefix: string | undefined, count: number): (string | undefined)[] {
  return Array.from({ length: count }, (_, i) => (prefix === undefined ? undefined : `${prefix}-${i + 1}`));
}

async function scheduleAll(
  session: Session,
  client: Client,
  definition: AnyFlowDefinition,
  input: unknown,
  ids: readonly (string | undefined)[],
  options: ScheduleCommandOptions,
): Promise<string[]> {
  const many = ids.length > 1;
  const progress = many ? startProgress(session.out, { label: 'scheduling', total: ids.length }) : undefined;
  const scheduled: string[] = [];
  let created = 0;
  try {
    for (const id of ids) {
      const handle = await client.schedule(definition, input, {
        flowId: id,
        queue: options.queue,
        delay: options.delay,
        priority: options.priority,
      });
      scheduled.push(handle.id);
      if (handle.created) created++;
      progress?.update(scheduled.length);
    }
  } finally {
    progress?.stop();
  }
  const queue = options.queue ?? definition.options.queue;
  const wait = options.wait === true;
  const [first] = scheduled;
  if (!many && first !== undefined) {
    const status = created === 1 ? 'pending' : await client.handle(first).status();
    if (!wait) session.out.data({ id: first, type: definition.name, queue, created: created === 1, status });
    if (created === 1) session.out.text(`scheduled ${definition.name} flow ${first} on queue ${queue}`);
    else session.out.text(`flow ${first} already exists (${status}): not scheduled again`);
    return scheduled;
  }
  if (!wait)
    session.out.data({ type: definition.name, queue, scheduled: scheduled.length, created, ids: scheduled });
  const existed = scheduled.length - created;
  const range = `${scheduled[0]} … ${scheduled[scheduled.length - 1]}`;
  session.out.text(
    `scheduled ${scheduled.length} ${definition.name} flows on queue ${queue}` +
      `${existed > 0 ? ` (${created} new, ${existed} already existed)` : ''}: ${range}`,
  );
  return scheduled;
}
