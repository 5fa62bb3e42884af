/**
 * What a seed's run did, for its report: store calls by method, claiming
 * creates, faults, pauses, kills, jumps, step starts and re-runs, and time.
 *
 * @module
 */
import type { CreateFlowResult } from '@ergon/core';
import type { FaultKind } from './fault-plan.js';
import type { SimulationStats } from './options.js';
import type { Trace } from './trace.js';

/** What {@link simulationStats} counts from. */
export interface StatsInput {
  readonly trace: Trace;
  /** Starts per `flowId/key/attempt`. */
  readonly starts: ReadonlyMap<string, number>;
  readonly flows: number;
  readonly workers: number;
  readonly faults: Readonly<Record<FaultKind, number>>;
  readonly counts: { readonly pauses: number; readonly kills: number; readonly jumps: number };
  readonly simulatedMs: number;
  readonly steps: number;
  readonly realMs: number;
}

/** The stats of one run. */
export function simulationStats(input: StatsInput): SimulationStats {
  const calls: Record<string, number> = {};
  let claimingCreates = 0;
  for (const e of input.trace.entries) {
    calls[e.method] = (calls[e.method] ?? 0) + 1;
    if (e.method === 'createFlow' && e.ok && (e.value as CreateFlowResult | undefined)?.claimed)
      claimingCreates++;
  }
  let stepStarts = 0;
  let stepReruns = 0;
  for (const [id, n] of input.starts) {
    stepStarts += n;
    if (!id.endsWith('/0')) stepReruns += n - 1;
  }
  return {
    flows: input.flows,
    workers: input.workers,
    storeCalls: input.trace.entries.length,
    calls,
    claimingCreates,
    faults: { ...input.faults },
    ...input.counts,
    stepStarts,
    stepReruns,
    simulatedMs: input.simulatedMs,
    steps: input.steps,
    realMs: input.realMs,
  };
}
