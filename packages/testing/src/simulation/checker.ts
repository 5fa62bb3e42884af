/**
 * Runs every invariant check of a finished seed over the store's end state
 * and the trace of every call that reached the store.
 *
 * @module
 */
import { checkChildren, checkRecords, checkShape, checkTimers } from './check-history.js';
import { checkLeases } from './check-leases.js';
import { checkOutcomes, checkSignals, checkTerminal, storedSignals } from './check-outcomes.js';
import { expectedPositions, type FlowScript } from './script.js';
import type { StoreSnapshot } from './snapshot.js';
import type { TraceEntry } from './trace.js';
import type { Violation } from './violations.js';

/** What the checker reads. */
export interface CheckInput {
  /** The store at the end of the run. */
  readonly snapshot: StoreSnapshot;
  /** Every call that reached the store, in the order they were sent. */
  readonly entries: readonly TraceEntry[];
  /** Top-level flows by id. */
  readonly flows: ReadonlyMap<string, FlowScript>;
}

/** Every broken invariant of a run; empty when all hold. */
export function checkInvariants(input: CheckInput): Violation[] {
  const { snapshot, entries } = input;
  const scripts = scriptsOf(input.flows);
  const signals = storedSignals(entries);
  return [
    ...checkTerminal(entries, snapshot),
    ...checkOutcomes(entries, scripts, snapshot, signals),
    ...checkRecords(entries, snapshot),
    ...checkShape(scripts, snapshot),
    ...checkLeases(entries),
    ...checkTimers(entries, scripts, snapshot),
    ...checkSignals(snapshot, signals),
    ...checkChildren(entries, scripts, snapshot),
  ];
}

/** The script of every flow that may exist: the top-level ones and, recursively, their children. */
export function scriptsOf(flows: ReadonlyMap<string, FlowScript>): Map<string, FlowScript> {
  const scripts = new Map<string, FlowScript>();
  const visit = (id: string, script: FlowScript) => {
    scripts.set(id, script);
    for (const p of expectedPositions(script)) {
      if (p.source.op === 'child' && p.kind === 'child') visit(`${id}/${p.position}`, p.source.script);
    }
  };
  for (const [id, script] of flows) visit(id, script);
  return scripts;
}
