/**
 * The plan of a fork (`client.fork`): which recorded results a new flow keeps,
 * which positions run again, and what was edited, worked out from the
 * original's history alone. The same plan is what `dryRun` returns and what
 * the real fork writes, so a preview never differs from the fork.
 *
 * @module
 */
import {
  type Codec,
  type FlowRecord,
  type ImportedSignal,
  type ImportFlowRequest,
  InvalidArgumentError,
  type OperationKind,
  type OperationRecord,
  type OperationStatus,
} from '@ergon/core';
import type { FlowExport } from './flow-export.js';

/** Options of {@link Client.fork}. */
export interface ForkOptions<I = unknown> {
  /**
   * Where the fork starts: a history position, or a key (`charge#0`, or `charge` for its first
   * call). The new flow keeps the records before it and runs the code from there.
   */
  readonly at: number | string;
  /** A new input for the fork (default the original's). */
  readonly input?: I;
  /**
   * Edited recorded results ("what-if"), by position or key, of records the fork keeps: each
   * becomes a completed record with this value, fed to the code that follows.
   */
  readonly results?: Readonly<Record<string, unknown>>;
  /** The new flow's id. Default `<original id>~fork-<uuid>`. */
  readonly flowId?: string;
  /** Only work out the plan: nothing is written. */
  readonly dryRun?: boolean;
}

/** One history entry in a {@link ForkPlan}. */
export interface ForkStep {
  /** Its position. */
  readonly position: number;
  /** Its key (`charge#0`). */
  readonly key: string;
  /** Its kind. */
  readonly kind: OperationKind;
  /** Its status in the original's history. */
  readonly status: OperationStatus;
}

/** One edit a fork makes. */
export type ForkChange =
  | {
      /** The input was replaced. */
      readonly target: 'input';
      /** The original's input. */
      readonly before: unknown;
      /** The fork's input. */
      readonly after: unknown;
    }
  | {
      /** A kept record's result was replaced. */
      readonly target: 'result';
      /** Its position. */
      readonly position: number;
      /** Its key. */
      readonly key: string;
      /** The recorded result (or the error, for a failed record). */
      readonly before: unknown;
      /** The fork's result. */
      readonly after: unknown;
    };

/** What a fork does. */
export interface ForkPlan {
  /** The original flow. */
  readonly source: string;
  /** The new flow's id. */
  readonly flowId: string;
  /** The flow type (the same code runs it). */
  readonly type: string;
  /** The first position that is not kept. */
  readonly at: number;
  /** Records the fork keeps: their results replay without running. */
  readonly kept: readonly ForkStep[];
  /** Recorded operations that will run again (at or after `at`, and any DAG whose nodes do). */
  readonly rerun: readonly ForkStep[];
  /** The input and results it edits. */
  readonly changes: readonly ForkChange[];
  /** Signals the fork finds buffered: those consumed at re-run positions, then the original's. */
  readonly signals: readonly string[];
}

function bad(message: string, details: Record<string, unknown>): never {
  throw new InvalidArgumentError(message, { details });
}

function stepOf(r: OperationRecord): ForkStep {
  return { position: r.position, key: r.key, kind: r.kind, status: r.status };
}

/** The position `at` names in `history`. @throws InvalidArgumentError when out of range or unknown. */
export function resolvePosition(
  flowId: string,
  history: readonly OperationRecord[],
  at: number | string,
): number {
  const last = history.reduce((max, r) => Math.max(max, r.position), -1);
  if (typeof at === 'number') {
    if (!Number.isSafeInteger(at) || at < 0 || at > last) {
      bad(
        last < 0
          ? `flow ${flowId} has no recorded operations to fork from`
          : `position ${at} is out of range for flow ${flowId}: use 0 to ${last} (see \`ergon show ${flowId}\`)`,
        { flowId, at, last },
      );
    }
    return at;
  }
  if (typeof at === 'string' && /^\d+$/.test(at)) return resolvePosition(flowId, history, Number(at));
  const found = history.find((r) => r.key === at) ?? history.find((r) => r.key === `${at}#0`);
  if (!found) {
    const keys = history.map((r) => r.key).join(', ') || 'none';
    bad(`flow ${flowId} has no operation ${JSON.stringify(at)} (its keys: ${keys})`, { flowId, at });
  }
  return found.position;
}

/** The number of node positions after a DAG record, from the graph shape it carries. */
function dagNodes(codec: Codec, record: OperationRecord): number | undefined {
  try {
    const value = codec.decode(record.result ?? '', `result of ${record.key}`) as {
      graph?: { nodes?: unknown[] };
    };
    return Array.isArray(value?.graph?.nodes) ? value.graph.nodes.length : undefined;
  } catch {
    return undefined;
  }
}

/** The name a signal record's key carries (`approve#0` → `approve`). */
function signalName(key: string): string {
  const hash = key.lastIndexOf('#');
  return hash < 0 ? key : key.slice(0, hash);
}

/** The plan of forking `source` and the import that carries it out. */
export function planFork(
  source: FlowExport,
  options: ForkOptions,
  context: { readonly codec: Codec; readonly now: number; readonly flowId: string },
): { plan: ForkPlan; request: ImportFlowRequest } {
  const { codec, now, flowId } = context;
  const original = source.flow;
  const history = [...source.history].sort((a, b) => a.position - b.position);
  const at = resolvePosition(original.id, history, options.at);
  const kept: OperationRecord[] = [];
  const rerun: OperationRecord[] = [];
  for (const record of history) {
    if (record.position >= at) rerun.push(record);
    else if (record.kind === 'dag') {
      // A DAG replayed from its record skips its nodes: keep it only when all its nodes are kept.
      const nodes = dagNodes(codec, record);
      if (nodes !== undefined && record.position + nodes < at) kept.push(record);
      else rerun.push(record);
    } else kept.push(record);
  }
  const changes: ForkChange[] = [];
  let input = original.input;
  if (options.input !== undefined) {
    input = codec.encode(options.input, 'fork input');
    changes.push({ target: 'input', before: codec.decode(original.input, 'input'), after: options.input });
  }
  const edited = new Map<number, unknown>();
  for (const [where, value] of Object.entries(options.results ?? {})) {
    const position = resolvePosition(original.id, history, where);
    const record = kept.find((r) => r.position === position);
    if (!record || record.status === 'waiting') {
      bad(
        `position ${position} of flow ${original.id} is not a finished record the fork keeps (it keeps 0 to ${at - 1}): ` +
          'edit only results before the fork point',
        { flowId: original.id, position, at },
      );
    }
    edited.set(position, value);
    const before =
      record.status === 'failed'
        ? codec.decode(record.error ?? 'null', `error of ${record.key}`)
        : record.result === undefined
          ? undefined
          : codec.decode(record.result, `result of ${record.key}`);
    changes.push({ target: 'result', position, key: record.key, before, after: value });
  }
  const newHistory = kept.map((r): OperationRecord => {
    const base = { ...r, flowId };
    if (!edited.has(r.position)) return base;
    return {
      ...base,
      status: 'completed',
      error: undefined,
      result: codec.encode(edited.get(r.position), `result of ${r.key}`),
    };
  });
  // Signals consumed at re-run positions are sent again, in the order they were consumed.
  const resent: ImportedSignal[] = rerun
    .filter((r) => r.kind === 'signal' && r.status === 'completed' && r.result !== undefined)
    .sort((a, b) => (a.seq ?? a.position) - (b.seq ?? b.position))
    .map((r) => ({
      name: signalName(r.key),
      payload: r.result as string,
      sentAt: r.finishedAt ?? r.startedAt,
    }));
  const signals = [
    ...resent,
    ...source.signals.map((s) => ({ name: s.name, payload: s.payload, sentAt: s.sentAt })),
  ];
  const flow: FlowRecord = {
    id: flowId,
    type: original.type,
    queue: original.queue,
    status: 'pending',
    priority: original.priority,
    input,
    runAt: now,
    fencingToken: 0,
    waits: [],
    cancelRequested: false,
    // The engine reads no history on a flow's first claim: a kept history needs a run counted.
    runCount: newHistory.length > 0 ? 1 : 0,
    abandonedRuns: 0,
    traceContext: original.traceContext,
    createdAt: now,
    updatedAt: now,
  };
  const plan: ForkPlan = {
    source: original.id,
    flowId,
    type: original.type,
    at,
    kept: kept.map(stepOf),
    rerun: rerun.map(stepOf).sort((a, b) => a.position - b.position),
    changes,
    signals: signals.map((s) => s.name),
  };
  return { plan, request: { flow, history: newHistory, signals, now } };
}
