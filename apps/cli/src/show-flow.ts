/**
 * One flow for people (summary, history table, waits, signals, DAGs) and
 * for scripts (the same as JSON).
 *
 * @module
 */
import type { Wait } from '@ergon/core';
import type { FlowInfo, HistoryEntry } from '@ergon/executor';
import { type DagView, renderDag } from './dag-view.js';
import { progressLines } from './flow-progress.js';
import { duration, errorText, iso, localTime, oneLine, preview, relative } from './format.js';
import { renderTable } from './output.js';

/** `flows show` as text. */
export function renderFlow(info: FlowInfo, dags: readonly DagView[], charset: 'unicode' | 'ascii'): string {
  const now = Date.now();
  const rows: [string, string][] = [
    ['type', info.type],
    ['queue', info.queue],
    [
      'status',
      info.cancelRequested && info.status === 'running' ? 'running (cancel requested)' : info.status,
    ],
    ['runs', String(info.runCount)],
    ['created', localTime(info.createdAt)],
    ['updated', localTime(info.updatedAt)],
  ];
  if (info.progressAt !== undefined) {
    const [first = '', ...more] = progressLines(info.progress, charset);
    rows.push(['progress', `${first}  (reported ${relative(info.progressAt, now)})`]);
    for (const line of more) rows.push(['', line]);
  }
  if (info.finishedAt !== undefined) {
    rows.push([
      'finished',
      `${localTime(info.finishedAt)} (took ${duration(info.finishedAt - info.createdAt)})`,
    ]);
  }
  if (info.parentId !== undefined) rows.push(['parent', info.parentId]);
  if (info.priority !== 0) rows.push(['priority', String(info.priority)]);
  if (info.status === 'pending' && info.runAt !== undefined && info.runAt > now) {
    rows.push(['runs at', `${localTime(info.runAt)} (${relative(info.runAt, now)})`]);
  }
  if (info.waitingFor !== undefined) rows.push(['waiting for', WAITING_FOR[info.waitingFor]]);
  if (info.leaseOwner !== undefined) {
    const until = info.leaseExpiresAt === undefined ? '' : ` until ${localTime(info.leaseExpiresAt)}`;
    rows.push(['lease', `${info.leaseOwner}${until}`]);
  }
  // Why a flow is not progressing: its runs were given up on (a crashed worker, a failing store).
  if (info.abandonedRuns > 0) rows.push(['abandoned', `${info.abandonedRuns} run(s) in a row`]);
  if (info.lastError !== undefined) rows.push(['last error', errorText(info.lastError, 300)]);
  if (info.damage !== undefined) rows.push(['damaged', info.damage]);
  rows.push(['input', preview(info.input, 200)]);
  if (info.status === 'completed') rows.push(['result', preview(info.result, 200)]);
  if (info.error !== undefined) rows.push(['error', errorText(info.error, 300)]);

  const width = Math.max(...rows.map(([k]) => k.length));
  const out = [
    `flow ${oneLine(info.id)}`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${oneLine(v)}`),
    '',
  ];

  out.push(`history (${info.history.length} operation${info.history.length === 1 ? '' : 's'})`);
  if (info.history.length > 0) {
    const head = ['#', 'key', 'kind', 'status', 'attempts', 'duration', 'error'];
    out.push(
      renderTable(
        head,
        info.history.map((h) => historyRow(h, now)),
      ),
    );
  }
  out.push('', 'pending waits');
  out.push(...(info.waits.length === 0 ? ['  none'] : info.waits.map((w) => `  ${describeWait(w, now)}`)));
  out.push('', 'buffered signals');
  out.push(
    ...(info.signals.length === 0
      ? ['  none']
      : info.signals.map((s) => `  ${s.name} (sent ${localTime(s.sentAt)}, ${relative(s.sentAt, now)})`)),
  );
  for (const dag of dags) {
    out.push(
      '',
      `DAG ${oneLine(dag.name)} (history position ${dag.position}${dag.finished ? '' : ', running'})`,
    );
    out.push(renderDag(dag, charset).trimEnd());
    if (!dag.shapeRecorded) {
      out.push('(dependencies are not in this history: nodes are shown without edges)');
    }
  }
  return `${out.join('\n')}\n`;
}

function historyRow(h: HistoryEntry, now: number): string[] {
  let took = duration(h.durationMs);
  if (h.status === 'waiting' && h.wakeAt !== undefined) took = `wakes ${relative(h.wakeAt, now)}`;
  return [String(h.position), h.key, h.kind, h.status, String(h.attempts), took, errorText(h.error, 60)];
}

/** Why a flow that could run is not running yet (flow control), in words. */
export const WAITING_FOR: Readonly<Record<NonNullable<FlowInfo['waitingFor']>, string>> = {
  'queue-concurrency': "the queue's concurrency limit (as many of its flows run as it allows)",
  'key-concurrency': 'its concurrency key’s limit (as many flows of that key run as it allows)',
  'rate-limit': "the queue's rate limit (its starts in the current window are used up)",
  debounce: 'a debounce: more calls with its key may come before it starts',
};

/** A pending wait in words. */
export function describeWait(wait: Wait, now = Date.now()): string {
  switch (wait.kind) {
    case 'timer':
      return `timer at ${localTime(wait.at)} (${relative(wait.at, now)}), position ${wait.position}`;
    case 'signal':
      return `signal '${wait.name}', position ${wait.position}`;
    case 'child':
      return `child flow ${wait.flowId}, position ${wait.position}`;
  }
}

/** `flows show --json`: the flow with ISO times, history, waits, signals and DAGs. */
export function flowJson(info: FlowInfo, dags: readonly DagView[]): Record<string, unknown> {
  return {
    ...flowSummaryJson(info),
    input: info.input,
    result: info.result,
    error: info.error,
    cancelRequested: info.cancelRequested,
    lease:
      info.leaseOwner === undefined
        ? undefined
        : { owner: info.leaseOwner, expiresAt: iso(info.leaseExpiresAt) },
    waits: info.waits.map((w) => (w.kind === 'timer' ? { ...w, at: iso(w.at) } : w)),
    signals: info.signals.map((s) => ({ name: s.name, sentAt: iso(s.sentAt) })),
    history: info.history.map((h) => ({
      position: h.position,
      key: h.key,
      kind: h.kind,
      status: h.status,
      attempts: h.attempts,
      startedAt: iso(h.startedAt),
      finishedAt: iso(h.finishedAt),
      durationMs: h.durationMs,
      wakeAt: iso(h.wakeAt),
      result: h.result,
      error: h.error,
    })),
    dags: dags.map((d) => ({
      name: d.name,
      position: d.position,
      key: d.key,
      finished: d.finished,
      shapeRecorded: d.shapeRecorded,
      nodes: d.nodes,
    })),
  };
}

/** The fields `flows list --json` gives per flow. */
export function flowSummaryJson(info: Omit<FlowInfo, 'history' | 'signals'>): Record<string, unknown> {
  return {
    id: info.id,
    type: info.type,
    queue: info.queue,
    status: info.status,
    runCount: info.runCount,
    waitingFor: info.waitingFor,
    abandonedRuns: info.abandonedRuns,
    lastError: info.lastError,
    damage: info.damage,
    priority: info.priority,
    progress: info.progress,
    progressAt: iso(info.progressAt),
    parentId: info.parentId,
    runAt: iso(info.runAt),
    createdAt: iso(info.createdAt),
    updatedAt: iso(info.updatedAt),
    finishedAt: iso(info.finishedAt),
  };
}
