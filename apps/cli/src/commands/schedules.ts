/**
 * `ergon schedules create|list|get|pause|resume|update|delete`: cron
 * schedules that start a flow per tick, fired by the workers of their flow type.
 *
 * @module
 */
import type { ScheduleCatchup, ScheduleOverlap } from '@ergon/core';
import { SCHEDULE_GRACE_MS, type ScheduleInfo } from '@ergon/executor';
import { type Command, Option } from 'commander';
import { usageError } from '../errors.js';
import { iso, localTime, relative } from '../format.js';
import { renderTable } from '../output.js';
import { parseJson, readJsonFile, wholeNumber } from '../parse.js';
import { Session } from '../session.js';

interface DefinitionOptions {
  readonly cron?: string;
  readonly timezone?: string;
  readonly input?: string;
  readonly inputFile?: string;
  readonly overlap?: ScheduleOverlap;
  readonly catchup?: ScheduleCatchup;
  readonly queue?: string;
  readonly priority?: number;
}

/** `none`, `latest` or a whole number ≥ 1. */
function catchupText(value: string): ScheduleCatchup {
  if (value === 'none' || value === 'latest') return value;
  if (/^\d+$/.test(value) && Number(value) >= 1) return Number(value);
  throw usageError(`--catchup must be none, latest or a whole number ≥ 1 (got ${JSON.stringify(value)})`);
}

function integer(value: string): number {
  if (!/^-?\d+$/.test(value))
    throw usageError(`--priority must be an integer (got ${JSON.stringify(value)})`);
  return Number(value);
}

/** The options a definition shares between `create` and `update`. */
function definitionOptions(command: Command): Command {
  return command
    .option('--timezone <zone>', 'IANA time zone the expression is read in (default UTC)')
    .option('--input <json>', 'input of every started flow, as JSON')
    .option('--input-file <file>', 'read the input JSON from a file (- for stdin)')
    .addOption(
      new Option(
        '--overlap <policy>',
        'while the last flow runs: skip, buffer-one or allow (default skip)',
      ).choices(['skip', 'buffer-one', 'allow']),
    )
    .option(
      '--catchup <policy>',
      'missed ticks started after downtime: none, latest (default) or a number',
      catchupText,
    )
    .option('--queue <queue>', 'queue of the started flows (default: default)')
    .option('--priority <n>', 'priority of the started flows (higher first)', integer);
}

function inputOf(options: DefinitionOptions): { given: boolean; value: unknown } {
  if (options.input !== undefined && options.inputFile !== undefined) {
    throw usageError('give --input or --input-file, not both');
  }
  if (options.input !== undefined) return { given: true, value: parseJson(options.input, '--input') };
  if (options.inputFile !== undefined)
    return { given: true, value: readJsonFile(options.inputFile, '--input-file') };
  return { given: false, value: undefined };
}

/** A schedule as JSON output. */
function plain(s: ScheduleInfo) {
  return {
    id: s.id,
    flowType: s.flowType,
    queue: s.queue,
    cron: s.cron,
    timezone: s.timezone,
    input: s.input,
    priority: s.priority,
    overlap: s.overlap,
    catchup: s.catchup,
    paused: s.paused,
    nextRunAt: s.nextRunAt?.toISOString(),
    upcoming: s.upcoming.map((d) => d.toISOString()),
    lastFlowId: s.lastFlowId,
    bufferedAt: s.bufferedAt?.toISOString(),
    revision: s.revision,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

function nextText(s: ScheduleInfo): string {
  if (s.paused) return 'paused';
  if (!s.nextRunAt) return 'never';
  const at = s.nextRunAt.getTime();
  // Late past the grace: no worker fired it, which says why no flow starts.
  const overdue =
    at < Date.now() - SCHEDULE_GRACE_MS ? `, overdue: is a worker of ${s.flowType} running?` : '';
  return `${localTime(at)} (${relative(at)}${overdue})`;
}

function describeSchedule(s: ScheduleInfo): string {
  const lines = [
    `schedule ${s.id}`,
    `  flow       ${s.flowType} on queue ${s.queue}${s.priority !== 0 ? `, priority ${s.priority}` : ''}`,
    `  cron       ${s.cron} (${s.timezone})`,
    `  overlap    ${s.overlap}`,
    `  catch-up   ${s.catchup}`,
    `  state      ${s.paused ? 'paused' : 'active'}`,
    `  input      ${JSON.stringify(s.input) ?? 'none'}`,
    `  last flow  ${s.lastFlowId ?? 'none yet'}`,
  ];
  if (s.bufferedAt)
    lines.push(`  buffered   tick of ${iso(s.bufferedAt.getTime())}, waiting for the last flow`);
  lines.push(
    s.upcoming.length === 0
      ? `  next       ${nextText(s)}`
      : `  next       ${s.upcoming.map((d) => localTime(d.getTime())).join(', ')}`,
  );
  return lines.join('\n');
}

/** Adds `schedules` and its subcommands to `program`. */
export function registerSchedules(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('cron schedules: each tick starts one flow, fired by the workers of its flow type');

  definitionOptions(
    schedules
      .command('create')
      .description('create a schedule (the same definition again changes nothing)')
      .argument('<id>', 'schedule id; its flows are <id>@<tick time>')
      .argument('<flowType>', 'the flow type each tick starts')
      .requiredOption('--cron <expression>', 'cron: 5 fields, or 6 with seconds first ("*/5 * * * *")')
      .option('--paused', 'create it paused'),
  ).action(
    async (
      id: string,
      flowType: string,
      options: DefinitionOptions & { paused?: boolean },
      command: Command,
    ) => {
      const session = Session.of(command);
      const input = inputOf(options);
      const created = await session.withClient('create', (client) =>
        client.schedules.create({
          id,
          flow: flowType,
          cron: options.cron ?? '',
          timezone: options.timezone,
          input: input.value,
          overlap: options.overlap,
          catchup: options.catchup,
          queue: options.queue,
          priority: options.priority,
          paused: options.paused === true,
        }),
      );
      session.out.data(plain(created));
      session.out.text(
        `created schedule ${id}: ${flowType} at "${created.cron}" (${created.timezone}); next ${nextText(created)}`,
      );
    },
  );

  schedules
    .command('list')
    .description('list schedules with their next fire times')
    .option('--type <flowType>', 'only schedules of this flow type')
    .option('--limit <n>', 'at most this many (default 100)', wholeNumber(1))
    .action(async (options: { type?: string; limit?: number }, command: Command) => {
      const session = Session.of(command);
      const page = await session.withClient('read', (client) =>
        client.schedules.list({ type: options.type, limit: options.limit }),
      );
      session.out.data({ schedules: page.schedules.map(plain), nextCursor: page.nextCursor });
      if (page.schedules.length === 0) {
        session.out.text('no schedules');
        return;
      }
      const rows = page.schedules.map((s) => [
        s.id,
        s.flowType,
        `${s.cron} (${s.timezone})`,
        nextText(s),
        s.overlap,
        String(s.catchup),
        s.lastFlowId ?? '',
      ]);
      session.out.text(renderTable(['id', 'flow', 'cron', 'next', 'overlap', 'catch-up', 'last flow'], rows));
    });

  schedules
    .command('get')
    .description('show one schedule and its next fire times')
    .argument('<id>', 'schedule id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const session = Session.of(command);
      const schedule = await session.withClient('read', (client) => client.schedules.get(id));
      session.out.data(plain(schedule));
      session.out.text(describeSchedule(schedule));
    });

  for (const [verb, description] of [
    ['pause', 'pause a schedule: no tick starts until it is resumed'],
    ['resume', 'resume a schedule from its next fire time after now'],
  ] as const) {
    schedules
      .command(verb)
      .description(description)
      .argument('<id>', 'schedule id')
      .action(async (id: string, _options: unknown, command: Command) => {
        const session = Session.of(command);
        const schedule = await session.withClient('existing', (client) => client.schedules[verb](id));
        session.out.data(plain(schedule));
        session.out.text(
          `${verb === 'pause' ? 'paused' : 'resumed'} schedule ${id}; next ${nextText(schedule)}`,
        );
      });
  }

  definitionOptions(
    schedules
      .command('update')
      .description('change a schedule (a new cron or time zone counts from now)')
      .argument('<id>', 'schedule id')
      .option('--cron <expression>', 'new cron expression'),
  ).action(async (id: string, options: DefinitionOptions, command: Command) => {
    const session = Session.of(command);
    const input = inputOf(options);
    const changes = {
      ...(options.cron === undefined ? {} : { cron: options.cron }),
      ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
      ...(input.given ? { input: input.value } : {}),
      ...(options.overlap === undefined ? {} : { overlap: options.overlap }),
      ...(options.catchup === undefined ? {} : { catchup: options.catchup }),
      ...(options.queue === undefined ? {} : { queue: options.queue }),
      ...(options.priority === undefined ? {} : { priority: options.priority }),
    };
    if (Object.keys(changes).length === 0) {
      throw usageError(
        'nothing to update: give --cron, --timezone, --input, --overlap, --catchup, --queue or --priority',
      );
    }
    const schedule = await session.withClient('existing', (client) => client.schedules.update(id, changes));
    session.out.data(plain(schedule));
    session.out.text(`updated schedule ${id}; next ${nextText(schedule)}`);
  });

  schedules
    .command('delete')
    .description('delete a schedule (the flows it started stay)')
    .argument('<id>', 'schedule id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const session = Session.of(command);
      await session.withClient('existing', (client) => client.schedules.delete(id));
      session.out.data({ id, deleted: true });
      session.out.text(`deleted schedule ${id}`);
    });
}
