/**
 * Options of a {@link Worker} and of its `stop()`.
 *
 * @module
 */
import type { Clock, Codec, Duration, Logger, StoreInput } from '@ergon/core';
import type { FlowSource } from './decorators.js';
import type { RunOutcome } from './internal/run-control.js';
import type { Worker } from './worker.js';

/** Options of {@link Worker}. */
export interface WorkerOptions {
  /** The store shared by every worker and client (raw, or its runtime wrapper). */
  readonly store: StoreInput;
  /** Flow types this worker runs (definitions or decorated classes). It claims only these. */
  readonly flows: readonly FlowSource[];
  /** Unique worker id, shown as lease owner. Default `<host>-<pid>-<random>`. */
  readonly id?: string;
  /** Queues to claim from. Default `['default']`. */
  readonly queues?: readonly string[];
  /** Flows running at once. Default 10. */
  readonly concurrency?: number;
  /** Lease length; a crashed worker's flows are resumed elsewhere after it. Default `'15s'`. */
  readonly lease?: Duration;
  /** Heartbeat interval. Default a third of the lease. */
  readonly heartbeat?: Duration;
  /** Retry backoffs at least this long become durable timers that free the worker. Default `'5s'`. */
  readonly durableBackoff?: Duration;
  /** Longest idle sleep between checks when nothing signals new work. Default `'1s'`, or `'10s'` when the store emits events. */
  readonly maxIdle?: Duration;
  /** Finished flows older than this are purged periodically. Default: never. */
  readonly retention?: Duration;
  /** Time source. Default the system clock. */
  readonly clock?: Clock;
  /** Codec of inputs, results and payloads; use the same one in every process. Default the core codec. */
  readonly codec?: Codec;
  /** Where the worker logs (runs, retries, reconnects). Default: nowhere. */
  readonly logger?: Logger;
  /** Called after each run of a flow leaves this worker. */
  readonly onOutcome?: (flowId: string, outcome: RunOutcome) => void;
  /** Called when due, pending flows in this worker's queues have a type it does not know. */
  readonly onUnknownType?: (type: string, flowIds: readonly string[]) => void;
  /** How often to look for flows of unknown types. Default `'30s'`. */
  readonly unknownTypeCheck?: Duration;
  /**
   * The poison rule: a flow claimed after this many abandoned runs in a row, the last for a
   * cause no retry can fix (`STORE_CORRUPT`, ...), is failed with that cause before it runs.
   * (A run stopped by such a cause fails its flow at once when the store lets it; this catches
   * the runs whose failure could not be recorded.) Default 3.
   */
  readonly maxAbandonedRuns?: number;
  /**
   * Per flow type, the recorded versions this worker runs (`{ order: ['1', '2'] }`): list the
   * versions whose histories this code replays (with `ctx.patched` where it changed). Default
   * each versioned definition's own version. A flow recorded under another version is released
   * with `VERSION_NOT_SERVED` as its `lastError`, for a worker that serves it; never failed for
   * it. Flows recorded before their type had a version are run by every worker.
   */
  readonly versions?: Readonly<Record<string, readonly string[]>>;
  /**
   * Presence in the store's worker registry: a heartbeat every `heartbeat`
   * (default `'500ms'`); a worker silent for `lapse` (default `'2s'`) is declared
   * dead by the others and its leases expire at once. `false`: not registered
   * (its flows then resume elsewhere only when their leases expire).
   */
  readonly liveness?:
    | false
    | {
        /** Registry heartbeat interval. Default `'500ms'`. */
        readonly heartbeat?: Duration;
        /** Silence after which other workers declare this one dead. Default `'2s'`. */
        readonly lapse?: Duration;
      };
  /** A label shown in the registry, the CLI and the dashboard. */
  readonly name?: string;
  /**
   * Firing the cron schedules of this worker's flow types (`client.schedules`): the worker
   * sleeps until the next tick, and looks at the schedules at least every `check`
   * (default `'5s'`) for ones created or changed by other processes. `false`: it fires none.
   */
  readonly schedules?:
    | false
    | {
        /** Longest sleep between looks at the schedules. Default `'5s'`. */
        readonly check?: Duration;
      };
}

/** Options of {@link Worker.stop}. */
export interface StopOptions {
  /** How long in-flight runs may take to finish before their leases are released. Default `'10s'`. */
  readonly timeout?: Duration;
}
