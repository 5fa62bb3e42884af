/**
 * `ergon fork <flowId> --at <position|key>`: a new flow that keeps the
 * original's history before a position and runs the code from there, with an
 * optionally edited input (`--input`) or recorded results (`--result pos=json`).
 * The plan is printed as a diff first, and the fork made once confirmed
 * (`--yes` to skip the question; without a terminal, `--yes` is required).
 *
 * @module
 */
import { createInterface } from 'node:readline/promises';
import type { ForkOptions, ForkPlan } from '@ergon/executor';
import type { Command } from 'commander';
import { CliError, ExitCode, usageError } from '../errors.js';
import { oneLine, truncate } from '../format.js';
import { parseJson } from '../parse.js';
import { Session } from '../session.js';

interface ForkCommandOptions {
  readonly at: string;
  readonly input?: string;
  readonly result?: string[];
  readonly id?: string;
  readonly yes?: boolean;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--result pos=json` values as `results`. @throws CliError (usage) for a malformed one. */
export function parseResults(values: readonly string[]): Record<string, unknown> {
  const results: Record<string, unknown> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw usageError(`--result ${value}: expected <position or key>=<json>, such as 2=100`);
    results[value.slice(0, eq)] = parseJson(value.slice(eq + 1), `--result ${value.slice(0, eq)}`);
  }
  return results;
}

function show(value: unknown): string {
  return truncate(oneLine(JSON.stringify(value) ?? 'undefined'), 60);
}

/** The plan as a diff: kept records, edits (~), positions that run again (-), the new input (+). */
export function renderPlan(plan: ForkPlan): string {
  const lines = [`fork of ${plan.source} (${plan.type}) at position ${plan.at} → new flow ${plan.flowId}`];
  const edited = new Map(
    plan.changes.flatMap((c) => (c.target === 'result' ? [[c.position, c] as const] : [])),
  );
  for (const change of plan.changes) {
    if (change.target === 'input') {
      lines.push(`- input ${show(change.before)}`, `+ input ${show(change.after)}`);
    }
  }
  for (const step of plan.kept) {
    const change = edited.get(step.position);
    if (change) {
      lines.push(`- ${step.position} ${step.key} ${show(change.before)}`);
      lines.push(`+ ${step.position} ${step.key} ${show(change.after)}  (edited, fed to what follows)`);
    } else lines.push(`  ${step.position} ${step.key}  kept`);
  }
  for (const step of plan.rerun) lines.push(`~ ${step.position} ${step.key}  runs again`);
  if (plan.signals.length > 0) lines.push(`  signals sent again: ${plan.signals.join(', ')}`);
  return lines.join('\n');
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Adds `fork` to `program`. */
export function registerFork(program: Command): void {
  program
    .command('fork')
    .description('start a new flow from a position of another: keep its history before it, re-run from there')
    .argument('<flowId>', 'the flow to fork')
    .requiredOption(
      '--at <position|key>',
      'the first position to run again (a number, or a key such as charge#0)',
    )
    .option('--input <json>', 'a new input for the fork')
    .option(
      '--result <pos=json>',
      'replace a kept result (repeatable): 2=100 or charge#0={"ok":true}',
      collect,
    )
    .option('--id <flowId>', "the new flow's id (default <flowId>~fork-<uuid>)")
    .option('-y, --yes', 'fork without asking (required when stdin is not a terminal)')
    .action(async (flowId: string, options: ForkCommandOptions, command: Command) => {
      const session = Session.of(command);
      const at: number | string = /^\d+$/.test(options.at) ? Number(options.at) : options.at;
      const forkOptions: ForkOptions = {
        at,
        ...(options.input === undefined ? {} : { input: parseJson(options.input, '--input') }),
        ...(options.result ? { results: parseResults(options.result) } : {}),
        ...(options.id === undefined ? {} : { flowId: options.id }),
      };
      await session.withClient('existing', async (client) => {
        const dry = await client.fork(flowId, { ...forkOptions, dryRun: true });
        session.out.text(renderPlan(dry.plan));
        if (options.yes !== true) {
          if (!process.stdin.isTTY) {
            throw new CliError(
              'not forking: stdin is not a terminal, so the plan cannot be confirmed; pass --yes to fork without asking',
              { exitCode: ExitCode.USAGE },
            );
          }
          if (!(await confirm('fork? [y/N] '))) {
            session.out.data({ plan: dry.plan, created: false });
            session.out.text('not forked');
            return;
          }
        }
        const forked = await client.fork(flowId, { ...forkOptions, flowId: dry.flowId });
        session.out.data({ plan: forked.plan, created: forked.created, flowId: forked.flowId });
        session.out.text(
          `forked ${flowId} as ${forked.flowId}: a worker of ${forked.plan.type} runs it from position ${forked.plan.at}`,
        );
      });
    });
}
