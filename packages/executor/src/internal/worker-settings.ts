/**
 * A worker's options, checked and resolved once when it is made: the
 * defaults, the bounds, and the wrapped store. What its runs share is a
 * {@link RunnerOptions}; the rest is what its claim loop needs.
 *
 * @module
 */
import { hostname } from 'node:os';
import {
  defaultCodec,
  InvalidArgumentError,
  noopLogger,
  runtimeStore,
  systemClock,
  toMillis,
  uuidv7,
} from '@ergon/core';
import { toFlowDefinition } from '../decorators.js';
import { type AnyFlowDefinition, validateName } from '../definitions.js';
import type { WorkerOptions } from '../worker-options.js';
import { DEFAULT_MAX_ABANDONED_RUNS } from './abandon.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { RunnerOptions } from './runner.js';
import { type ServedVersions, servedVersions } from './versions.js';

/** A worker's resolved options. */
export interface WorkerSettings extends RunnerOptions {
  /** Queues it claims from. */
  readonly queues: readonly string[];
  /** Flows running at once. */
  readonly concurrency: number;
  /** Longest idle sleep between checks when nothing signals new work. */
  readonly maxIdleMs: number;
  readonly maxAbandonedRuns: number;
  readonly versions: ServedVersions;
}

/**
 * Checks and resolves `options`.
 * @throws InvalidArgumentError for a missing store, no flows, or a value out of bounds.
 */
export function workerSettings(options: WorkerOptions): WorkerSettings {
  if (!options?.store) throw new InvalidArgumentError('Worker needs a store');
  const store = runtimeStore(options.store, { logger: options.logger });
  const flows = new Map<string, AnyFlowDefinition>();
  for (const source of options.flows ?? []) {
    const definition = toFlowDefinition(source);
    flows.set(definition.name, definition);
  }
  if (flows.size === 0) throw new InvalidArgumentError('Worker needs at least one flow in `flows`');
  const concurrency = options.concurrency ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgumentError(`Worker concurrency must be a whole number ≥ 1 (got ${concurrency})`);
  }
  const workerId = options.id ?? `${hostname()}-${process.pid}-${uuidv7().slice(-8)}`;
  const queues = Object.freeze((options.queues ?? ['default']).map((q) => validateName(q, 'queue name')));
  const leaseMs = toMillis(options.lease ?? '15s', 'lease');
  const heartbeatMs = toMillis(options.heartbeat ?? Math.max(1, Math.floor(leaseMs / 3)), 'heartbeat');
  if (leaseMs < 10 || heartbeatMs >= leaseMs) {
    throw new InvalidArgumentError('Worker heartbeat must be shorter than the lease (and the lease ≥ 10 ms)');
  }
  const durableBackoffMs = toMillis(options.durableBackoff ?? '5s', 'durableBackoff');
  const maxAbandonedRuns = options.maxAbandonedRuns ?? DEFAULT_MAX_ABANDONED_RUNS;
  const versions = servedVersions(flows, options.versions);
  if (!Number.isInteger(maxAbandonedRuns) || maxAbandonedRuns < 1) {
    throw new InvalidArgumentError(
      `Worker maxAbandonedRuns must be a whole number ≥ 1 (got ${options.maxAbandonedRuns})`,
    );
  }
  const maxIdleMs = toMillis(options.maxIdle ?? (store.capabilities.events ? '10s' : '1s'), 'maxIdle');
  return {
    store,
    codec: options.codec ?? defaultCodec,
    clock: options.clock ?? systemClock,
    logger: (options.logger ?? noopLogger).child({ workerId }),
    flows,
    workerId,
    leaseMs,
    heartbeatMs,
    leases: new LeaseKeeper(heartbeatMs),
    durableBackoffMs,
    maxAbandonedRuns,
    versions,
    queues,
    concurrency,
    maxIdleMs,
  };
}
