/**
 * `ergon workers`: the live workers of a store (its registry), with their
 * heartbeat age, what they run and the flows they hold.
 *
 * @module
 */
import type { Command } from 'commander';
import { duration, localTime } from '../format.js';
import { renderTable } from '../output.js';
import { Session } from '../session.js';

/** Adds `workers` to `program`. */
export function registerWorkers(program: Command): void {
  program
    .command('workers')
    .description(
      'list the live workers: heartbeat age, host and pid, queues, flows held and their lease expiries',
    )
    .action(async (_options: unknown, command: Command) => {
      const session = Session.of(command);
      const workers = await session.withClient('read', (client) => client.workers());
      session.out.data({ workers });
      if (workers.length === 0) {
        session.out.text('no live workers (a worker registers within a heartbeat of starting)');
        return;
      }
      const rows = workers.map((w) => [
        w.id,
        (w.name === undefined ? w.kind : `${w.kind} ${w.name}`) +
          (w.stats.paused === true ? ' (paused)' : ''),
        `${w.host}:${w.pid}`,
        w.queues.join(','),
        duration(w.heartbeatAgeMs),
        `${w.flows.length}/${w.concurrency}`,
        w.flows
          .slice(0, 3)
          .map((f) => `${f.flowId} (until ${localTime(f.leaseExpiresAt)})`)
          .join(', ') + (w.flows.length > 3 ? `, +${w.flows.length - 3}` : ''),
      ]);
      session.out.text(renderTable(['id', 'kind', 'host:pid', 'queues', 'heartbeat', 'held', 'flows'], rows));
    });
}
