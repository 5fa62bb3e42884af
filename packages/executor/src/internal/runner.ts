/**
 * Runs a claimed flow (`run.ts`) with what every run of a worker or an
 * executor shares ({@link RunnerOptions}), inside a flow span and run metrics
 * when telemetry is on.
 *
 * @module
 */

import type { ClaimedFlow, Clock, Codec, Logger, RuntimeExecutionLog } from '@ergon/core';
import type { AnyFlowDefinition } from '../definitions.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { Run } from './run.js';
import type { RunControl, RunOutcome } from './run-control.js';
import {
  Attr,
  endSpan,
  instruments,
  NO_SPAN,
  startFlowSpan,
  TELEMETRY_OFF,
  type TelemetryState,
  telemetryState,
} from './telemetry.js';
import type { ServedVersions } from './versions.js';

/** Shared by the worker and the executor. */
export interface RunnerOptions {
  readonly store: RuntimeExecutionLog;
  readonly codec: Codec;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly flows: ReadonlyMap<string, AnyFlowDefinition>;
  readonly workerId: string;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  /** Renews the leases of the runs (one timer for them all, every `heartbeatMs`). */
  readonly leases: LeaseKeeper;
  readonly durableBackoffMs: number;
  /**
   * A claimed flow whose last runs were abandoned this many times in a row, the last for a
   * non-transient cause, is failed with that cause before it runs. Default 3.
   */
  readonly maxAbandonedRuns?: number;
  /** Per flow type, the recorded versions this worker serves (`versions.ts`); undefined: all. */
  readonly versions?: ServedVersions | undefined;
}

/**
 * What the runs of one claim's flows share, looked at once for them all rather than per flow:
 * whether telemetry is on, and the clock's time when the claim was answered (each run's lease is
 * measured from it; the runs start in the same turn).
 */
export interface ClaimTurn {
  readonly telemetry: TelemetryState;
  readonly now: number;
}

/** The {@link ClaimTurn} of a claim answered now. */
export function claimTurn(clock: Clock): ClaimTurn {
  return { telemetry: telemetryState(), now: clock.now() };
}

/** Runs a claimed flow until it leaves this worker. Never throws. */
export function runClaimed(
  options: RunnerOptions,
  claimed: ClaimedFlow,
  control?: RunControl,
  turn: ClaimTurn = claimTurn(options.clock),
): Promise<RunOutcome> {
  const { telemetry } = turn;
  if (!telemetry.tracing && !telemetry.metrics)
    return new Run(options, claimed, NO_SPAN.context, TELEMETRY_OFF, control).drive(turn.now);
  return runInstrumented(options, claimed, turn, control);
}

/** {@link runClaimed} with a flow span and run metrics. */
async function runInstrumented(
  options: RunnerOptions,
  claimed: ClaimedFlow,
  turn: ClaimTurn,
  control: RunControl | undefined,
): Promise<RunOutcome> {
  const { flow } = claimed;
  const { telemetry } = turn;
  const startedAt = options.clock.now();
  const traced = telemetry.tracing
    ? startFlowSpan({
        flowId: flow.id,
        flowType: flow.type,
        workerId: options.workerId,
        traceContext: flow.traceContext,
      })
    : NO_SPAN;
  const m = telemetry.metrics ? instruments() : undefined;
  m?.activeFlows.add(1, { [Attr.flowType]: flow.type });
  const outcome = await new Run(options, claimed, traced.context, telemetry, control).drive(turn.now);
  const attributes = { [Attr.flowType]: flow.type, [Attr.outcome]: outcome.status };
  m?.activeFlows.add(-1, { [Attr.flowType]: flow.type });
  m?.flowRuns.add(1, attributes);
  m?.flowRunDuration.record(options.clock.now() - startedAt, attributes);
  const failed = outcome.status === 'failed' || outcome.status === 'abandoned';
  endSpan(traced.span, outcome.status, failed ? outcome.error : undefined);
  return outcome;
}
