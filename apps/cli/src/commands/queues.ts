/**
 * `ergon queues`: a queue's flow-control limits, kept in the store so every
 * worker claims within them (`client.queues`), and what counts against them now.
 *
 * @module
 */
import type { QueueLimitsInput } from '@ergon/executor';
import { type Command, InvalidArgumentError as OptionValueError } from 'commander';
import { usageError } from '../errors.js';
import { durationText, wholeNumber } from '../parse.js';
import { Session } from '../session.js';

interface SetOptions {
  readonly concurrency?: number;
  readonly rate?: { limit: number; period: string };
  readonly keyConcurrency?: number;
  readonly weight?: Record<string, number>;
}

/** `100/1m`: at most 100 starts in any minute. */
function rateText(value: string): { limit: number; period: string } {
  const [limit = '', period = ''] = value.split('/');
  const n = Number(limit);
  if (!/^\d+$/.test(limit.trim()) || n < 1)
    throw new OptionValueError("expected starts/period, like '100/1m'");
  return { limit: n, period: durationText(period) };
}

/** `key=weight`, repeatable. */
function weightEntry(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const at = value.lastIndexOf('=');
  const weight = Number(value.slice(at + 1));
  if (at <= 0 || !Number.isFinite(weight) || weight <= 0) {
    throw new OptionValueError("expected key=weight with a positive weight, like 'tenant-gold=3'");
  }
  return { ...previous, [value.slice(0, at)]: weight };
}

/** Adds `queues` to `program`. */
export function registerQueues(program: Command): void {
  const queues = program.command('queues').description("a queue's flow-control limits (kept in the store)");

  queues
    .command('show')
    .description('the limits of a queue and what counts against them now')
    .argument('<queue>', 'queue name')
    .option('--key <key>', 'also count the running flows of this concurrency key')
    .action(async (queue: string, options: { key?: string }, command: Command) => {
      const session = Session.of(command);
      const state = await session.withClient('read', (client) => client.queues.state(queue, options.key));
      session.out.data({ queue, ...state });
      const limits = state.limits;
      const lines = [
        `queue ${queue}`,
        `  concurrency      ${limits?.concurrency ?? 'no limit'}`,
        `  rate             ${limits?.rate ? `${limits.rate.limit} per ${limits.rate.periodMs} ms` : 'no limit'}`,
        `  key concurrency  ${limits?.keyConcurrency ?? 'no limit'}`,
        `  key weights      ${limits?.keyWeights ? JSON.stringify(limits.keyWeights) : 'all 1'}`,
        `  running          ${state.running}`,
        ...(options.key === undefined ? [] : [`  running (key)    ${state.keyRunning}`]),
        ...(limits?.rate ? [`  starts (window)  ${state.recentStarts}`] : []),
      ];
      session.out.text(lines.join('\n'));
    });

  queues
    .command('set')
    .description("set a queue's limits (replacing the ones it had); every worker's next claim keeps them")
    .argument('<queue>', 'queue name')
    .option('--concurrency <n>', 'at most this many of its flows running at once', wholeNumber(1))
    .option(
      '--rate <starts/period>',
      "at most this many starts in any window of the period ('100/1m')",
      rateText,
    )
    .option('--key-concurrency <n>', 'at most this many running per concurrency key', wholeNumber(1))
    .option('--weight <key=weight>', 'a key’s fair share (repeatable; default 1)', weightEntry)
    .action(async (queue: string, options: SetOptions, command: Command) => {
      const session = Session.of(command);
      const limits: QueueLimitsInput = {
        concurrency: options.concurrency,
        rate: options.rate,
        keyConcurrency: options.keyConcurrency,
        keyWeights: options.weight,
      };
      const set = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
      if (Object.keys(set).length === 0)
        throw usageError('give at least one limit, or remove them with: ergon queues clear');
      await session.withClient('create', (client) => client.queues.configure(queue, set));
      session.out.data({ queue, limits: set });
      session.out.text(`queue ${queue}: limits set`);
    });

  queues
    .command('clear')
    .description("remove a queue's limits")
    .argument('<queue>', 'queue name')
    .action(async (queue: string, _options: unknown, command: Command) => {
      const session = Session.of(command);
      await session.withClient('existing', (client) => client.queues.configure(queue, null));
      session.out.data({ queue, limits: null });
      session.out.text(`queue ${queue}: limits removed`);
    });
}
