// The soak's end checks: the simulation's invariant checks (@ergon/testing/simulation)
// over the store's end state and the worker processes' journals of store calls.
// Journals of different processes are ordered by the system clock (Date.now, whole ms):
// a call counts as answered before another was sent only when the clock says so whatever
// the fractions of a millisecond (MARGIN_MS), so a check never blames the store for calls
// the clock cannot order.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { defaultCodec } from '@ergon/core';
import { isTerminalStatus } from '@ergon/core';
import {
  checkChildren,
  checkLeases,
  checkOutcomes,
  checkRecords,
  checkShape,
  checkTimers,
  readSnapshot,
  scriptsOf,
} from '@ergon/testing/simulation';

const MARGIN_MS = 1;
/**
 * A flow that could have moved on this long before the end and did not is stuck
 * (a backlog of an overloaded machine moves on within it).
 */
const OVERDUE_MS = 30_000;

/** A short stand-in for a long stored value (results, errors): equal values, equal stand-ins. */
export function digest(text) {
  return text === undefined
    ? undefined
    : `h:${createHash('sha1').update(text).digest('base64').slice(0, 12)}`;
}

/**
 * Journal lines of every worker process: trace entries in the order they were sent, and step
 * starts. A call sent and never answered (its process was killed) is an entry without an answer.
 */
export function readJournals(paths) {
  const calls = [];
  const starts = new Map();
  const unanswered = new Map();
  for (const path of paths) {
    if (!existsSync(path)) continue; // killed before its first call
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line) continue;
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a line cut by a SIGKILL
      }
      if (entry.k === 'start') {
        const key = `${entry.f} ${entry.s} ${entry.a}`;
        starts.set(key, (starts.get(key) ?? 0) + 1);
      } else if (entry.k === 'send') unanswered.set(`${entry.c}#${entry.n}`, entry);
      else {
        unanswered.delete(`${entry.c}#${entry.n}`);
        calls.push(entry);
      }
    }
  }
  calls.push(...unanswered.values());
  calls.sort((a, b) => a.i - b.i);
  const entries = calls.map((c, id) => ({
    id,
    caller: c.c,
    method: c.m,
    request: c.q,
    now: c.q.now ?? c.i,
    invokedAt: c.i,
    settledAt: c.k === 'send' ? undefined : c.o + MARGIN_MS,
    ok: c.k === 'send' ? false : c.e === undefined,
    value: c.v,
    error: c.k === 'send' ? 'no answer: its process was killed' : c.e,
  }));
  return { entries, starts };
}

/**
 * Every invariant over the end state: all flows finished as their scripts allow, with
 * the results they compute, history shaped as called and recorded once, timers never
 * early, children created once, each signal consumed once and none lost, no write
 * accepted under a lease another claim took over, no claim under a live lease.
 */
export async function checkSoak({ store, queue, flows, sends, cancelled, entries, now }) {
  const raw = await readSnapshot(store, queue);
  // Stored values are compared through the same stand-ins the journals carry.
  const history = new Map([...raw.history].map(([id, h]) => [id, h.map((r) => ({ ...r }))]));
  const normalized = new Map(
    [...history].map(([id, h]) => [
      id,
      h.map((r) => ({ ...r, result: digest(r.result), error: digest(r.error) })),
    ]),
  );
  const snapshot = { ...raw, history };
  const scripts = scriptsOf(flows);
  const signals = new Map();
  for (const s of sends) {
    const key = `${s.flowId}|${s.name}`;
    signals.set(key, [...(signals.get(key) ?? []), s.payload]);
  }
  const cancels = [...cancelled].map((flowId) => ({
    ok: true,
    method: 'requestCancel',
    request: { flowId },
  }));
  const violations = [
    ...checkStuck(snapshot, now),
    ...checkOutcomes(cancels, scripts, snapshot, signals),
    ...checkShape(scripts, snapshot),
    // Real time: the wake time is computed before the record's start is read, with any pause of
    // the process in between; only "never before its wake time" holds exactly.
    ...checkTimers(entries, scripts, snapshot, Number.POSITIVE_INFINITY),
    ...checkChildren(entries, scripts, snapshot),
    ...checkRecords(entries, { ...raw, history: normalized }),
    // ioredis resends a call cut by a dropped connection: a heartbeat's reply may come from a second run.
    ...checkLeases(entries, { lapseMs: 2000 }),
    ...checkSoakSignals(snapshot, sends),
  ];
  const inProgress = [...snapshot.flows.values()].filter((f) => !isTerminalStatus(f.status)).length;
  return { violations, inProgress };
}

/**
 * Flows not finished at the end must be visibly on their way: ready or woken
 * less than {@link OVERDUE_MS} ago, under a live lease, or waiting on something
 * that has not happened (a timer not yet due, a signal not sent, a child not done).
 */
function checkStuck(snapshot, now) {
  const violations = [];
  for (const flow of snapshot.flows.values()) {
    if (isTerminalStatus(flow.status)) continue;
    const late = (at) => at !== undefined && at < now - OVERDUE_MS;
    let why;
    if (flow.status === 'running' && late(flow.leaseExpiresAt))
      why = `its lease ended at ${flow.leaseExpiresAt}`;
    else if (flow.status !== 'running' && late(flow.runAt)) why = `it was due at ${flow.runAt}`;
    else if (flow.status === 'suspended') {
      const buffered = new Set((snapshot.signals.get(flow.id) ?? []).map((s) => s.name));
      for (const w of flow.waits) {
        const child = w.kind === 'child' ? snapshot.flows.get(w.flowId) : undefined;
        if (w.kind === 'signal' && buffered.has(w.name)) why = `signal ${w.name} is buffered`;
        if (child && isTerminalStatus(child.status) && late(child.finishedAt))
          why = `child ${child.id} finished`;
      }
    }
    if (why)
      violations.push({
        invariant: 'terminal-or-pending',
        flowId: flow.id,
        detail: `still ${flow.status} though ${why}`,
      });
  }
  return violations;
}

/**
 * Signals: every payload consumed or still buffered is one the soak sent, none twice; every
 * send the store acknowledged is there. (A send whose answer was lost may or may not be.)
 */
function checkSoakSignals(snapshot, sends) {
  const violations = [];
  const sent = new Map(sends.map((s) => [s.payload, s]));
  const seen = new Map();
  const hold = (flowId, payload) => {
    if (!sent.has(payload))
      violations.push({ invariant: 'signal-once', flowId, detail: `${payload} was never sent` });
    else if (seen.has(payload))
      violations.push({ invariant: 'signal-once', flowId, detail: `${payload} consumed or buffered twice` });
    seen.set(payload, flowId);
  };
  for (const [flowId, history] of snapshot.history) {
    for (const r of history)
      if (r.kind === 'signal' && r.status === 'completed') hold(flowId, decode(r.result));
  }
  for (const [flowId, buffered] of snapshot.signals)
    for (const s of buffered) hold(flowId, decode(s.payload));
  for (const s of sends) {
    if (s.acknowledged && !seen.has(s.payload)) {
      violations.push({
        invariant: 'signal-once',
        flowId: s.flowId,
        detail: `${s.payload} was stored and then lost`,
      });
    }
  }
  return violations;
}

function decode(text) {
  try {
    return String(defaultCodec.decode(text));
  } catch {
    return text;
  }
}
