/**
 * Quiet: the moment the runner may act or move the clock. No store call is in
 * flight and none has started for a few turns of the event loop (and, for a
 * store behind I/O, for `quietMs` of real time too). Everything the engine
 * does between store calls takes microtasks and immediates only, so on the
 * memory store quiet comes at the same point of every run of a seed.
 *
 * @module
 */
import type { Trace } from './trace.js';

const QUIET_TURNS = 3;
const MAX_TURNS = 200_000;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits for quiet; false when it never came (something keeps calling the store). */
export async function waitForQuiet(trace: Trace, quietMs: number): Promise<boolean> {
  for (let turns = 0, calm = 0, mark = trace.activity; turns < MAX_TURNS; turns++) {
    // A call in flight on a store behind I/O: wait for its answer rather than spin.
    if (trace.inflight > 0) await waitForSettle(trace, 5);
    else await turn();
    if (trace.inflight > 0 || trace.activity !== mark) {
      calm = 0;
      mark = trace.activity;
      continue;
    }
    if (++calm < QUIET_TURNS) continue;
    if (quietMs === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    if (trace.inflight === 0 && trace.activity === mark) return true;
    calm = 0;
    mark = trace.activity;
  }
  return false;
}

/** Resolves when a store call settles, or after `ms` real milliseconds. */
function waitForSettle(trace: Trace, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const stop = trace.onSettle(done);
    function done() {
      clearTimeout(timer);
      stop();
      resolve();
    }
  });
}
