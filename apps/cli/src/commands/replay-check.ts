/**
 * `ergon replay-check <module>`: replays recorded histories (from the store,
 * or from a file `ergon flows export` wrote) against the module's flow code,
 * running no step body and writing nothing, and exits non-zero (4) when any
 * flow diverges: a CI gate before a deploy.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { type FlowStatus, toMillis } from '@ergon/core';
import { type FlowExport, parseExport, type ReplayCheckReport, replayCheck } from '@ergon/executor';
import { InvalidArgumentError as OptionValueError, type Command } from 'commander';
import { CliError, ExitCode } from '../errors.js';
import { loadFlows } from '../load-flows.js';
import { renderTable } from '../output.js';
import { statusList, wholeNumber } from '../parse.js';
import { Session } from '../session.js';

interface ReplayCheckCommandOptions {
  readonly type?: string;
  readonly since?: number;
  readonly limit?: number;
  readonly status?: FlowStatus[];
  readonly file?: string;
}

/** Commander parser of `--since`: an ISO time, or a duration back from now (`7d`). */
export function sinceTime(value: string): number {
  const at = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && Number.isFinite(at)) return at;
  try {
    return Date.now() - toMillis(value);
  } catch {
    throw new OptionValueError(
      "expected an ISO time (2026-01-31T00:00:00Z) or a duration back from now ('7d')",
    );
  }
}

/** The flows of an export file. @throws CliError when it cannot be read or is not an export. */
export function readExportFile(path: string): FlowExport[] {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new CliError(`cannot read ${path}: ${reason}`, { cause: error });
  }
  return parseExport(text, path);
}

function render(report: ReplayCheckReport): string {
  const lines: string[] = [];
  if (report.problems.length > 0) {
    const rows = report.problems.map((p) => [
      p.flowId,
      p.type,
      p.status,
      p.status === 'diverged' ? String(p.position) : '',
      p.status === 'diverged' ? p.recordedKey : '',
      p.status === 'diverged' ? (p.calledKey ?? '(code ended)') : '',
      p.status === 'diverged' ? (p.location ?? '') : p.status === 'ok' ? '' : p.message,
    ]);
    lines.push(renderTable(['flow', 'type', 'problem', 'position', 'recorded', 'code calls', 'where'], rows));
  }
  const diverged = report.problems.length;
  lines.push(
    diverged === 0
      ? `replay-check passed: ${report.checked} flow${report.checked === 1 ? '' : 's'} replay on this code`
      : `replay-check failed: ${diverged} of ${report.checked} flows do not replay on this code`,
  );
  return lines.join('\n');
}

/** Adds `replay-check` to `program`. */
export function registerReplayCheck(program: Command): void {
  program
    .command('replay-check')
    .description(
      "replay recorded histories against a module's flow code without running steps or writing; exit code 4 on divergence",
    )
    .argument('<module>', 'the module exporting the flow code to check (as for `ergon worker`)')
    .option('--type <type>', 'only flows of this type')
    .option('--since <time>', 'only flows created since (ISO time, or a duration back: 7d)', sinceTime)
    .option('--limit <n>', 'at most this many flows (newest first)', wholeNumber(1))
    .option('--status <statuses>', 'only flows in these statuses (from a store)', statusList)
    .option('--file <path>', 'read the histories from an `ergon flows export` file instead of the store')
    .action(async (module: string, options: ReplayCheckCommandOptions, command: Command) => {
      const session = Session.of(command);
      const flows = [...(await loadFlows(module)).values()];
      const filters = { type: options.type, since: options.since, limit: options.limit };
      const report = options.file
        ? await replayCheck({ flows, histories: readExportFile(options.file), ...filters })
        : await session.withClient('read', (_client, store) =>
            replayCheck({ flows, store, status: options.status, ...filters }),
          );
      session.out.data(report);
      session.out.text(render(report));
      if (!report.passed) process.exitCode = ExitCode.DIVERGED;
    });
}
