/**
 * `ergon signal | cancel | retry | purge`: act on existing flows.
 *
 * @module
 */
import { FlowFinishedError, FlowNotFoundError, validateId } from '@ergon/core';
import type { Command } from 'commander';
import { durationText, parseJson } from '../parse.js';
import { retryFlow } from '../retry.js';
import { Session } from '../session.js';

/** Adds `signal`, `cancel`, `retry` and `purge` to `program`. */
export function registerControl(program: Command): void {
  program
    .command('signal')
    .description('send a signal to a flow (buffered until the flow waits for it)')
    .argument('<id>', 'flow id')
    .argument('<name>', 'signal name')
    .option('--payload <json>', 'the signal payload, as JSON')
    .action(async (id: string, name: string, options: { payload?: string }, command: Command) => {
      const session = Session.of(command);
      const payload = options.payload === undefined ? undefined : parseJson(options.payload, '--payload');
      await session.withClient('existing', (client) => client.signal(id, name, payload));
      session.out.data({ id, signal: name, sent: true });
      session.out.text(`signal '${name}' sent to flow ${id}`);
    });

  program
    .command('cancel')
    .description('cancel a flow and its unfinished children')
    .argument('<id>', 'flow id')
    .option('--reason <text>', 'why, recorded with the cancellation')
    .addHelpText(
      'after',
      '\nA pending or suspended flow is cancelled at once; a running one stops at its next durable\n' +
        'operation. Cancelling a cancelled flow does nothing; a completed or failed one is an error.',
    )
    .action(async (id: string, options: { reason?: string }, command: Command) => {
      const session = Session.of(command);
      const { before, after } = await session.withClient('existing', async (client, store) => {
        const flow = await store.getFlow(validateId(id, 'flow id'));
        if (!flow) throw new FlowNotFoundError(id);
        if (flow.status === 'completed' || flow.status === 'failed') {
          throw new FlowFinishedError(id, flow.status, 'cancel');
        }
        return { before: flow.status, after: await client.cancel(id, options.reason) };
      });
      session.out.data({ id, previousStatus: before, status: after, cancelRequested: after !== 'cancelled' });
      if (before === 'cancelled') session.out.text(`flow ${id} was already cancelled`);
      else if (after === 'cancelled') session.out.text(`flow ${id} cancelled`);
      else
        session.out.text(
          `cancellation requested: flow ${id} is ${after} and stops at its next durable operation`,
        );
    });

  program
    .command('retry')
    .description('run a failed or cancelled flow again, as a new flow; prints the new id')
    .argument('<id>', 'flow id (failed or cancelled)')
    .addHelpText(
      'after',
      '\nThe flow itself is not changed. A new flow is scheduled with the same type, queue, priority\n' +
        'and input, and the id <id>.retry-<n>, n being the first number not taken (1, 2, …); retrying a\n' +
        'retry continues the numbering (retrying x.retry-1 gives x.retry-2). The new flow starts from\n' +
        'the top with an empty history: steps that completed before run again. A child flow is retried\n' +
        'as a top-level flow. A worker that knows the flow type must run it.',
    )
    .action(async (id: string, _options: unknown, command: Command) => {
      const session = Session.of(command);
      const retried = await session.withClient('existing', (client) => retryFlow(client, id));
      session.out.data(retried);
      session.out.text(retried.id);
      if (!session.out.json) {
        session.out.note(
          `retrying ${retried.retryOf} (${retried.previousStatus}) as a new ${retried.type} flow on queue ${retried.queue}`,
        );
      }
    });

  program
    .command('purge')
    .description(
      'delete finished (completed, failed, cancelled) flows older than a given age, with their history',
    )
    .requiredOption('--older-than <duration>', 'finished at least this long ago (7d, 12h, 30m)', durationText)
    .action(async (options: { olderThan: string }, command: Command) => {
      const session = Session.of(command);
      const purged = await session.withClient('existing', (client) =>
        client.purge({ olderThan: options.olderThan }),
      );
      session.out.data({ purged, olderThan: options.olderThan });
      session.out.text(
        `purged ${purged} flow${purged === 1 ? '' : 's'} finished more than ${options.olderThan} ago`,
      );
    });
}
