/**
 * History checks: each position gets its final record once and keeps it;
 * history holds what the flow's script calls, at its positions; timers never
 * end early; each child is created once, under the id its position gives.
 *
 * @module
 */
import type { CreateFlowResult, FlowRecord, OperationRecord, RecordResult } from '@ergon/core';
import { expectedPositions, type FlowScript } from './script.js';
import type { StoreSnapshot } from './snapshot.js';
import type { TraceEntry } from './trace.js';
import { Invariant, type Violation } from './violations.js';

const isFinal = (r: OperationRecord) => r.status !== 'waiting';

/** The fields that make a final record what it is. */
function fingerprint(r: OperationRecord): string {
  return JSON.stringify([
    r.key,
    r.kind,
    r.status,
    r.attempts,
    r.result,
    r.error,
    r.startedAt,
    r.finishedAt,
    r.seq,
  ]);
}

/** Final records written once, never changed afterwards (as every reply and the end state show). */
export function checkRecords(entries: readonly TraceEntry[], snapshot: StoreSnapshot): Violation[] {
  const violations: Violation[] = [];
  const written = new Map<string, TraceEntry>();
  const first = new Map<string, { print: string; where: string }>();
  const observe = (record: OperationRecord, where: string) => {
    if (!isFinal(record)) return;
    const id = `${record.flowId}@${record.position}`;
    const print = fingerprint(record);
    const seen = first.get(id);
    if (!seen) first.set(id, { print, where });
    else if (seen.print !== print) {
      violations.push({
        invariant: Invariant.FINAL_UNCHANGED,
        flowId: record.flowId,
        detail: `position ${record.position} was ${seen.print} (${seen.where}), later ${print} (${where})`,
      });
    }
  };
  for (const e of entries) {
    if (!e.ok) continue;
    const where = `${e.method} #${e.id} by ${e.caller}`;
    if (e.method === 'recordOperation' || e.method === 'consumeSignal') {
      const result = e.value as RecordResult | undefined;
      if (!result) continue;
      if (!result.existed && isFinal(result.record)) {
        const id = `${result.record.flowId}@${result.record.position}`;
        const earlier = written.get(id);
        if (earlier) {
          violations.push({
            invariant: Invariant.RECORDED_ONCE,
            flowId: result.record.flowId,
            detail: `position ${result.record.position} got a final record from ${earlier.method} #${earlier.id} by ${earlier.caller} and again from ${where}`,
          });
        } else written.set(id, e);
      }
      observe(result.record, where);
    } else if (e.method === 'getHistory') {
      for (const record of e.value as OperationRecord[]) observe(record, where);
    }
  }
  for (const history of snapshot.history.values()) for (const r of history) observe(r, 'the end state');
  return violations;
}

/** History of each flow matches the positions its script takes; completed flows have every one. */
export function checkShape(scripts: ReadonlyMap<string, FlowScript>, snapshot: StoreSnapshot): Violation[] {
  const violations: Violation[] = [];
  for (const [flowId, history] of snapshot.history) {
    const script = scripts.get(flowId);
    if (!script) continue;
    const expected = expectedPositions(script);
    for (const r of history) {
      const want = expected[r.position];
      if (!want || want.kind !== r.kind || want.key !== r.key) {
        violations.push({
          invariant: Invariant.HISTORY_SHAPE,
          flowId,
          detail: `position ${r.position} holds ${r.kind} ${r.key}; the script calls ${want ? `${want.kind} ${want.key}` : 'nothing'} there`,
        });
      }
    }
    if (snapshot.flows.get(flowId)?.status !== 'completed') continue;
    const final = new Set(history.filter(isFinal).map((r) => r.position));
    // A failed DAG records nothing for itself, and its nodes only as far as they ran.
    const missing = expected.filter((p) => p.kind !== 'dag' && !p.node && !final.has(p.position));
    for (const p of missing) {
      violations.push({
        invariant: Invariant.HISTORY_SHAPE,
        flowId,
        detail: `completed without a final record at position ${p.position} (${p.kind} ${p.key})`,
      });
    }
  }
  return violations;
}

/**
 * Timers: the wake time is computed once (its waiting record says `ms` after it
 * started) and the final record is written no earlier. On a real clock the
 * engine reads the time twice (for the wake time, then for the record), so the
 * record may start up to `clockSlackMs` after the wake time was computed.
 */
export function checkTimers(
  entries: readonly TraceEntry[],
  scripts: ReadonlyMap<string, FlowScript>,
  snapshot: StoreSnapshot,
  clockSlackMs = 0,
): Violation[] {
  const waiting = new Map<string, OperationRecord>();
  for (const e of entries) {
    if (!e.ok || e.method !== 'recordOperation') continue;
    const { record, existed } = e.value as RecordResult;
    const id = `${record.flowId}@${record.position}`;
    if (!existed && record.status === 'waiting' && !waiting.has(id)) waiting.set(id, record);
  }
  const violations: Violation[] = [];
  for (const [flowId, history] of snapshot.history) {
    const script = scripts.get(flowId);
    if (!script) continue;
    const expected = expectedPositions(script);
    for (const r of history) {
      const source = expected[r.position]?.source;
      const timed =
        (source?.op === 'sleep' && r.kind === 'sleep' && r.status === 'completed') ||
        (source?.op === 'signal' && source.timeoutMs !== undefined && r.status === 'failed');
      if (!timed || !source) continue;
      const ms = source.op === 'sleep' ? source.ms : (source.timeoutMs ?? 0);
      const wait = waiting.get(`${flowId}@${r.position}`);
      const dueAt = wait?.wakeAt ?? r.startedAt + ms;
      const set = wait?.wakeAt === undefined ? undefined : wait.wakeAt - wait.startedAt;
      if (wait && set !== undefined && (set > ms || set < ms - clockSlackMs)) {
        violations.push({
          invariant: Invariant.TIMER_EARLY,
          flowId,
          detail: `${r.key} at position ${r.position} was set for ${wait.wakeAt}, not ${ms} ms after ${wait.startedAt}`,
        });
      }
      if ((r.finishedAt ?? 0) < dueAt) {
        violations.push({
          invariant: Invariant.TIMER_EARLY,
          flowId,
          detail: `${r.key} at position ${r.position} ended at ${r.finishedAt}, before it was due at ${dueAt}`,
        });
      }
    }
  }
  return violations;
}

/** Children: created once each, with the id `<parent>/<position>` of a child operation of the parent. */
export function checkChildren(
  entries: readonly TraceEntry[],
  scripts: ReadonlyMap<string, FlowScript>,
  snapshot: StoreSnapshot,
): Violation[] {
  const violations: Violation[] = [];
  const created = new Map<string, TraceEntry>();
  for (const e of entries) {
    if (!e.ok || e.method !== 'createFlow' || !(e.value as CreateFlowResult).created) continue;
    const id = (e.value as CreateFlowResult).flow.id;
    const earlier = created.get(id);
    if (earlier) {
      violations.push({
        invariant: Invariant.CHILD_ONCE,
        flowId: id,
        detail: `created by createFlow #${earlier.id} (${earlier.caller}) and again by #${e.id} (${e.caller})`,
      });
    } else created.set(id, e);
  }
  for (const flow of snapshot.flows.values()) {
    if (flow.parentId === undefined) continue;
    violations.push(...checkChildId(flow, scripts, snapshot));
  }
  return violations;
}

function checkChildId(
  flow: FlowRecord,
  scripts: ReadonlyMap<string, FlowScript>,
  snapshot: StoreSnapshot,
): Violation[] {
  const parentId = flow.parentId as string;
  const position = Number(flow.id.slice(parentId.length + 1));
  const script = scripts.get(parentId);
  const want = script ? expectedPositions(script)[position] : undefined;
  const recorded = snapshot.history.get(parentId)?.find((r) => r.position === position);
  if (
    flow.id.startsWith(`${parentId}/`) &&
    want?.kind === 'child' &&
    (!recorded || recorded.kind === 'child')
  )
    return [];
  return [
    {
      invariant: Invariant.CHILD_ONCE,
      flowId: flow.id,
      detail: `child of ${parentId} whose id does not name a child operation of its parent`,
    },
  ];
}
