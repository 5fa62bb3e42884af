/**
 * `ergon flows export` and `ergon flows import`: flows with their histories
 * and buffered signals as JSON lines, one flow a line, exactly as the store
 * holds them. For bug reports, replay checks (`replay-check --file`) and
 * moving flows between stores.
 *
 * @module
 */
import { createWriteStream } from 'node:fs';
import type { FlowStatus } from '@ergon/core';
import { importFlows, readFlows, toExportLine } from '@ergon/executor';
import type { Command } from 'commander';
import { statusList, wholeNumber } from '../parse.js';
import { Session } from '../session.js';
import { readExportFile, sinceTime } from './replay-check.js';

interface ExportOptions {
  readonly type?: string;
  readonly status?: FlowStatus[];
  readonly since?: number;
  readonly limit?: number;
  readonly output?: string;
}

/** Writes `text` to `stream`, waiting when it is full. */
function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.write(text)) resolve();
    else {
      stream.once('drain', resolve);
      stream.once('error', reject);
    }
  });
}

/** Adds `export` and `import` to the `flows` command. */
export function registerFlowTransfer(flows: Command): void {
  flows
    .command('export')
    .description('write flows with their histories and signals as JSON lines (stdout, or --output)')
    .option('--type <type>', 'only flows of this type')
    .option('--status <statuses>', 'only these statuses (comma-separated or repeated)', statusList)
    .option('--since <time>', 'only flows created since (ISO time, or a duration back: 7d)', sinceTime)
    .option('--limit <n>', 'at most this many flows (newest first)', wholeNumber(1))
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (options: ExportOptions, command: Command) => {
      const session = Session.of(command);
      const out = options.output ? createWriteStream(options.output) : process.stdout;
      let count = 0;
      try {
        await session.withClient('read', async (_client, store) => {
          const query = {
            type: options.type,
            status: options.status,
            since: options.since,
            limit: options.limit,
          };
          for await (const entry of readFlows(store, query)) {
            await write(out, `${toExportLine(entry)}\n`);
            count++;
          }
        });
      } finally {
        if (out !== process.stdout) await new Promise<void>((resolve) => out.end(resolve));
      }
      session.out.note(
        `exported ${count} flow${count === 1 ? '' : 's'}${options.output ? ` to ${options.output}` : ''}`,
      );
    });

  flows
    .command('import')
    .description('write the flows of an `ergon flows export` file into the store (existing ids are skipped)')
    .argument('<file>', 'the JSON-lines file (- for stdin)')
    .action(async (file: string, _options: unknown, command: Command) => {
      const session = Session.of(command);
      const entries = readExportFile(file);
      const report = await session.withClient('create', (_client, store) => importFlows(store, entries));
      session.out.data(report);
      session.out.text(
        `imported ${report.imported.length} flow${report.imported.length === 1 ? '' : 's'}` +
          (report.skipped.length > 0
            ? `; skipped ${report.skipped.length} whose id exists: ${report.skipped.join(', ')}`
            : ''),
      );
    });
}
