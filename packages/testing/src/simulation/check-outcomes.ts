/**
 * Outcome checks: every accepted flow finished once faults stopped; each
 * finished the way its script allows, with the result the script computes;
 * every stored signal was consumed at most once and none was lost.
 *
 * @module
 */
import {
  type CancelRequest,
  type CreateFlowResult,
  defaultCodec,
  type FlowRecord,
  isTerminalStatus,
  type SendSignalRequest,
} from '@ergon/core';
import {
  doomed,
  expectedPositions,
  type FlowScript,
  SCRIPTED_FLOW_FAILURE,
  type ScriptOp,
} from './script.js';
import type { StoreSnapshot } from './snapshot.js';
import { errorCode, type TraceEntry } from './trace.js';
import { Invariant, type Violation } from './violations.js';

/** Per flow and signal name, the payloads the store accepted, in order. */
export type StoredSignals = ReadonlyMap<string, readonly string[]>;

/** The payloads of every signal the store accepted (duplicate deliveries included). */
export function storedSignals(entries: readonly TraceEntry[]): StoredSignals {
  const stored = new Map<string, string[]>();
  for (const e of entries) {
    if (!e.ok || e.method !== 'sendSignal') continue;
    const s = e.request as SendSignalRequest;
    const key = `${s.flowId}|${s.name}`;
    stored.set(key, [...(stored.get(key) ?? []), String(defaultCodec.decode(s.payload))]);
  }
  return stored;
}

/** Every accepted flow is in the store and terminal. */
export function checkTerminal(entries: readonly TraceEntry[], snapshot: StoreSnapshot): Violation[] {
  const violations: Violation[] = [];
  const accepted = new Set<string>(snapshot.flows.keys());
  for (const e of entries)
    if (e.ok && e.method === 'createFlow') accepted.add((e.value as CreateFlowResult).flow.id);
  for (const id of accepted) {
    const flow = snapshot.flows.get(id);
    if (!flow) {
      violations.push({
        invariant: Invariant.TERMINAL,
        flowId: id,
        detail: 'accepted by the store, then gone',
      });
    } else if (!isTerminalStatus(flow.status)) {
      violations.push({
        invariant: Invariant.TERMINAL,
        flowId: id,
        detail: `still ${describeFlow(flow)} after healing`,
      });
    }
  }
  return violations;
}

function describeFlow(flow: FlowRecord): string {
  const waits = flow.waits.map((w) =>
    w.kind === 'timer' ? `timer@${w.at}` : w.kind === 'signal' ? `signal ${w.name}` : `child ${w.flowId}`,
  );
  return (
    `${flow.status} (runAt ${flow.runAt}, lease ${flow.leaseOwner ?? '-'} until ${flow.leaseExpiresAt ?? '-'}, ` +
    `token ${flow.fencingToken}, runs ${flow.runCount}, waits [${waits.join(', ')}])`
  );
}

/** Each terminal flow ended as its script allows, with the result the script computes. */
export function checkOutcomes(
  entries: readonly TraceEntry[],
  scripts: ReadonlyMap<string, FlowScript>,
  snapshot: StoreSnapshot,
  signals: StoredSignals,
): Violation[] {
  const cancelled = new Set<string>();
  for (const e of entries)
    if (e.ok && e.method === 'requestCancel') cancelled.add((e.request as CancelRequest).flowId);
  const violations: Violation[] = [];
  for (const flow of snapshot.flows.values()) {
    const script = scripts.get(flow.id);
    const fail = (detail: string) =>
      violations.push({ invariant: Invariant.OUTCOME, flowId: flow.id, detail });
    if (!script) {
      fail(`a flow no script accounts for (${flow.type})`);
      continue;
    }
    if (flow.status === 'cancelled') {
      const asked = [...cancelled].some((id) => flow.id === id || flow.id.startsWith(`${id}/`));
      if (!asked) fail('cancelled, though nobody cancelled it or its ancestors');
    } else if (flow.status === 'failed') {
      const error = decode(flow.error);
      const scripted = script.fail && error instanceof Error && error.message === SCRIPTED_FLOW_FAILURE;
      if (!scripted) fail(`failed with ${errorCode(error)}${script.fail ? '' : ' (its script never fails)'}`);
    } else if (flow.status === 'completed') {
      if (script.fail) fail('completed, though its script ends in a failure');
      const result = decode(flow.result);
      const mismatch = matchOps(result, script, flow.id, snapshot, signals);
      if (mismatch) fail(`completed with ${JSON.stringify(result)}: ${mismatch}`);
    }
  }
  return violations;
}

/** Where `actual` (a flow's result) departs from what the script computes, or undefined. */
function matchOps(
  actual: unknown,
  script: FlowScript,
  flowId: string,
  snapshot: StoreSnapshot,
  signals: StoredSignals,
): string | undefined {
  const positions = new Map(expectedPositions(script).map((p) => [p.source, p.position]));
  const match = (value: unknown, op: ScriptOp): string | undefined => {
    switch (op.op) {
      case 'step':
        return expectEqual(value, doomed(op) ? `err:${op.name}` : `ok:${op.name}`);
      case 'sleep':
        return expectEqual(value, 'slept');
      case 'signal': {
        if (value === 'timeout' && op.timeoutMs !== undefined) return undefined;
        const sent = signals.get(`${flowId}|${op.name}`) ?? [];
        return sent.includes(String(value))
          ? undefined
          : `${JSON.stringify(value)} is no signal sent as ${op.name}`;
      }
      case 'child': {
        const child = snapshot.flows.get(`${flowId}/${positions.get(op)}`);
        if (!child) return `its child at position ${positions.get(op)} does not exist`;
        if (child.status === 'completed') return expectEqual(value, decode(child.result));
        return expectEqual(value, 'err:CHILD_FLOW_FAILED');
      }
      case 'dag': {
        const names = op.nodes.map((n) => n.name).sort();
        return expectEqual(value, op.nodes.some(doomed) ? 'err:DAG_FAILED' : `dag:${names.join(',')}`);
      }
      case 'all':
        return matchList(value, op.ops, match);
    }
  };
  return matchList(actual, script.ops, match);
}

function matchList(
  value: unknown,
  ops: readonly ScriptOp[],
  match: (value: unknown, op: ScriptOp) => string | undefined,
): string | undefined {
  if (!Array.isArray(value) || value.length !== ops.length) return `expected ${ops.length} results`;
  for (const [i, op] of ops.entries()) {
    const wrong = match(value[i], op);
    if (wrong) return `result ${i} (${op.op}): ${wrong}`;
  }
  return undefined;
}

function expectEqual(actual: unknown, expected: unknown): string | undefined {
  return JSON.stringify(actual) === JSON.stringify(expected)
    ? undefined
    : `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

function decode(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return defaultCodec.decode(text);
  } catch (error) {
    return error;
  }
}

/** Stored signals = consumed + still buffered, payload by payload, per flow and name. */
export function checkSignals(snapshot: StoreSnapshot, signals: StoredSignals): Violation[] {
  const violations: Violation[] = [];
  const names = new Set<string>(signals.keys());
  const held = new Map<string, string[]>();
  const hold = (key: string, payload: string) => {
    names.add(key);
    held.set(key, [...(held.get(key) ?? []), payload]);
  };
  for (const [flowId, history] of snapshot.history) {
    for (const r of history) {
      if (r.kind !== 'signal' || r.status !== 'completed') continue;
      hold(`${flowId}|${r.key.slice(0, r.key.lastIndexOf('#'))}`, String(decode(r.result)));
    }
  }
  for (const [flowId, buffered] of snapshot.signals) {
    for (const s of buffered) hold(`${flowId}|${s.name}`, String(decode(s.payload)));
  }
  for (const key of names) {
    const sent = [...(signals.get(key) ?? [])].sort();
    const found = [...(held.get(key) ?? [])].sort();
    if (JSON.stringify(sent) !== JSON.stringify(found)) {
      violations.push({
        invariant: Invariant.SIGNAL_ONCE,
        flowId: key.slice(0, key.indexOf('|')),
        detail: `signal ${key.slice(key.indexOf('|') + 1)}: stored ${JSON.stringify(sent)}, consumed or buffered ${JSON.stringify(found)}`,
      });
    }
  }
  return violations;
}
