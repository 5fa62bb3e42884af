/**
 * The parts of a worker beside its claim loop, built from its options: the
 * housekeeping chores, the schedule runner (unless `schedules: false`) and its
 * presence in the registry (unless `liveness: false`).
 *
 * @module
 */
import { toMillis } from '@ergon/core';
import { tickKey } from '../flow-control.js';
import { ScheduleRunner } from '../schedules/runner.js';
import type { WorkerOptions } from '../worker-options.js';
import { Housekeeping } from './housekeeping.js';
import { HOST, Presence } from './presence.js';
import type { WorkerSettings } from './worker-settings.js';

/** What the parts need of their worker. */
export interface WorkerPartsHooks {
  /** When the worker was built (its registration's `startedAt`). */
  readonly startedAt: number;
  /** The registration's `stats`, read at each heartbeat. */
  readonly stats: () => Record<string, unknown>;
  /** A heartbeat declared workers dead: their flows are claimable now. */
  readonly reaped: () => void;
}

/** A worker's housekeeping, schedule runner and presence. */
export interface WorkerParts {
  readonly housekeeping: Housekeeping;
  readonly schedules: ScheduleRunner | undefined;
  readonly presence: Presence | undefined;
}

/** Builds the parts of the worker `settings` were resolved for (from `options`). */
export function workerParts(
  options: WorkerOptions,
  settings: WorkerSettings,
  hooks: WorkerPartsHooks,
): WorkerParts {
  const { store, clock, logger, flows, codec } = settings;
  const housekeeping = new Housekeeping({
    store,
    clock,
    logger,
    queues: settings.queues,
    known: flows,
    retentionMs: options.retention === undefined ? undefined : toMillis(options.retention, 'retention'),
    unknownCheckMs: toMillis(options.unknownTypeCheck ?? '30s', 'unknownTypeCheck'),
    onUnknownType: options.onUnknownType,
  });
  const schedules =
    options.schedules === false
      ? undefined
      : new ScheduleRunner({
          store,
          clock,
          logger,
          types: [...flows.keys()],
          checkMs: toMillis(options.schedules?.check ?? '5s', 'schedules check'),
          control: (type, input) => tickKey(flows.get(type), codec, input),
        });
  const liveness = options.liveness ?? {};
  const presence =
    liveness === false
      ? undefined
      : new Presence({
          store,
          clock,
          logger,
          heartbeatMs: toMillis(liveness.heartbeat ?? '500ms', 'liveness heartbeat'),
          lapseMs: toMillis(liveness.lapse ?? '2s', 'liveness lapse'),
          info: () => ({
            id: settings.workerId,
            kind: 'worker',
            name: options.name,
            host: HOST,
            pid: process.pid,
            queues: settings.queues,
            types: [...flows.keys()],
            concurrency: settings.concurrency,
            startedAt: hooks.startedAt,
            stats: JSON.stringify(hooks.stats()),
          }),
          onReaped: hooks.reaped,
        });
  return { housekeeping, schedules, presence };
}
