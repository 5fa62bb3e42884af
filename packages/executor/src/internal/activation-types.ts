/**
 * What an activation needs and how it ends.
 *
 * @module
 */
import type { Context } from '@opentelemetry/api';
import type {
  Clock,
  Codec,
  FlowRecord,
  Logger,
  OperationRecord,
  RuntimeExecutionLog,
  Wait,
} from '@ergon/core';
import type { FlowDefinition } from '../definitions.js';
import type { TelemetryState } from './telemetry.js';

/** How an activation ended. */
export type ActivationOutcome =
  | { readonly kind: 'completed'; readonly value: unknown }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'blocked'; readonly waits: readonly Wait[] }
  /** Fail the flow regardless of what the code does (non-determinism, unreadable history). */
  | { readonly kind: 'fatal'; readonly error: Error }
  /** Stop without writing anything more (lease lost, store unreachable). */
  | { readonly kind: 'abandoned'; readonly error: Error }
  | { readonly kind: 'cancelled' };

/** What an activation needs. */
export interface ActivationOptions {
  readonly flow: FlowRecord;
  readonly token: number;
  readonly history: readonly OperationRecord[];
  readonly store: RuntimeExecutionLog;
  readonly codec: Codec;
  readonly clock: Clock;
  readonly logger: Logger;
  // biome-ignore lint/suspicious/noExplicitAny: the registry holds every flow type.
  readonly definition: FlowDefinition<any, any>;
  /** Backoffs at least this long become durable timers. */
  readonly durableBackoffMs: number;
  /** The `ergon.flow` span's context: parent of step spans. */
  readonly traceContext: Context;
  /** Which telemetry signals are on for this run. */
  readonly telemetry: TelemetryState;
  /**
   * The flow's stored progress (encoded) when this activation starts: the claimed record's, or
   * what an earlier activation of the run wrote. A report of the same value writes nothing.
   */
  readonly progress?: string | undefined;
  /**
   * Replay only (`replayCheck`): an operation with no final record never runs (no step body, no
   * evaluated wait); it waits forever, so the activation ends `blocked` on those positions once
   * every recorded result was delivered. The store it gets refuses writes.
   */
  readonly replayOnly?: boolean;
}
