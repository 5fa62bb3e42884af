/**
 * `replayCheck`: replays recorded histories against the current flow code
 * without running a step body and without writing anything, and reports per
 * flow the first position where the code diverges. A CI gate: run it over
 * histories exported from production before a deploy.
 *
 * It is the real replay (the activation, its history cursor and replay order),
 * on a store that refuses every write and with live operations never run: an
 * operation the history has no final record of is where the check of that flow
 * stops (the code is compatible so far).
 *
 * @module
 */
import {
  type Codec,
  defaultCodec,
  type FlowQuery,
  type FlowRecord,
  InvalidArgumentError,
  noopLogger,
  runtimeStore,
  type StoreInput,
  systemClock,
  toError,
} from '@ergon/core';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { type FlowSource, toFlowDefinition } from './decorators.js';
import type { AnyFlowDefinition } from './definitions.js';
import { NonDeterminismError } from './errors.js';
import { type FlowExport, readFlows } from './flow-export.js';
import { Activation } from './internal/activation.js';
import type { ActivationOutcome } from './internal/activation-types.js';
import { locationOf } from './internal/patches.js';
import { isReplayWriteRefused, ReplayOnlyStore } from './internal/replay-only-store.js';
import { TELEMETRY_OFF } from './internal/telemetry.js';

/** Options of {@link replayCheck}. */
export interface ReplayCheckOptions {
  /** The current flow code: definitions or decorated classes, as a worker takes them. */
  readonly flows: readonly FlowSource[];
  /** Read the histories from this store (filtered by `type`, `since`, `limit`, `status`)... */
  readonly store?: StoreInput;
  /** ...or take them as given (the flows of an `ergon flows export` file, see `parseExport`). */
  readonly histories?: Iterable<FlowExport> | AsyncIterable<FlowExport>;
  /** Only flows of this type. */
  readonly type?: string;
  /** Only flows created at or after this time. */
  readonly since?: Date | number;
  /** At most this many flows (newest first from a store). */
  readonly limit?: number;
  /** Only flows in these statuses (from a store). Default all. */
  readonly status?: FlowQuery['status'];
  /** The codec the histories were written with. Default the core codec. */
  readonly codec?: Codec;
  /** Give up on one flow's replay after this long (flow code awaiting something outside Ergon). Default 10 s. */
  readonly timeoutMs?: number;
}

/** The verdict on one flow. */
export type FlowCheck =
  | {
      /** The code replays the whole recorded history. */
      readonly status: 'ok';
      /** The flow. */
      readonly flowId: string;
      /** Its type. */
      readonly type: string;
      /** Recorded positions the code called (or passed over). */
      readonly replayed: number;
      /** Positions past the recorded history the code reached, where the check stopped. */
      readonly stoppedAt: readonly number[];
    }
  | {
      /** The code calls another operation than history recorded, or ends before calling recorded ones. */
      readonly status: 'diverged';
      /** The flow. */
      readonly flowId: string;
      /** Its type. */
      readonly type: string;
      /** The first divergent position. */
      readonly position: number;
      /** The key recorded there (`charge#0`). */
      readonly recordedKey: string;
      /** The kind recorded there. */
      readonly recordedKind: string;
      /** The key the code called there; undefined when the code ended without calling it. */
      readonly calledKey?: string | undefined;
      /** The kind the code called there. */
      readonly calledKind?: string | undefined;
      /** Where the flow code made the divergent call (a stack frame), when it could be found. */
      readonly location?: string | undefined;
      /** One sentence for people. */
      readonly message: string;
    }
  | {
      /** No flow definition of this type was given. */
      readonly status: 'unknown-type';
      /** The flow. */
      readonly flowId: string;
      /** Its type. */
      readonly type: string;
      /** One sentence for people. */
      readonly message: string;
    }
  | {
      /** The history could not be replayed (an unreadable input or record, a replay that never settled). */
      readonly status: 'error';
      /** The flow. */
      readonly flowId: string;
      /** Its type. */
      readonly type: string;
      /** One sentence for people. */
      readonly message: string;
    };

/** What {@link replayCheck} found. */
export interface ReplayCheckReport {
  /** True when every flow is `ok`. */
  readonly passed: boolean;
  /** Flows checked. */
  readonly checked: number;
  /** The verdict on each flow, in the order read. */
  readonly flows: readonly FlowCheck[];
  /** The flows that are not `ok`. */
  readonly problems: readonly FlowCheck[];
}

/**
 * Replays recorded histories against `options.flows` and reports, per flow, the first divergent
 * position (both keys and the code location) or that it replays. Runs no step body, evaluates no
 * timer, signal or child, and writes nothing.
 * @throws InvalidArgumentError when neither `store` nor `histories` is given, or a filter is bad.
 */
export async function replayCheck(options: ReplayCheckOptions): Promise<ReplayCheckReport> {
  const definitions = new Map<string, AnyFlowDefinition>();
  for (const source of options.flows ?? []) {
    const definition = toFlowDefinition(source);
    definitions.set(definition.name, definition);
  }
  const since = options.since instanceof Date ? options.since.getTime() : options.since;
  let source: Iterable<FlowExport> | AsyncIterable<FlowExport>;
  if (options.histories) source = filtered(options.histories, options.type, since, options.limit);
  else if (options.store) {
    source = readFlows(options.store, {
      type: options.type,
      since,
      limit: options.limit,
      status: options.status,
    });
  } else throw new InvalidArgumentError('replayCheck needs a store or histories (an export) to read');
  const codec = options.codec ?? defaultCodec;
  const store = runtimeStore(new ReplayOnlyStore());
  const flows: FlowCheck[] = [];
  try {
    for await (const entry of source) {
      flows.push(
        await checkFlow(entry, definitions, { codec, store, timeoutMs: options.timeoutMs ?? 10_000 }),
      );
    }
  } finally {
    await store.close();
  }
  const problems = flows.filter((f) => f.status !== 'ok');
  return { passed: problems.length === 0, checked: flows.length, flows, problems };
}

async function* filtered(
  histories: Iterable<FlowExport> | AsyncIterable<FlowExport>,
  type: string | undefined,
  since: number | undefined,
  limit: number | undefined,
): AsyncGenerator<FlowExport> {
  let left = limit ?? Number.POSITIVE_INFINITY;
  for await (const entry of histories) {
    if (left <= 0) return;
    if (type !== undefined && entry.flow.type !== type) continue;
    if (since !== undefined && entry.flow.createdAt < since) continue;
    left--;
    yield entry;
  }
}

interface CheckContext {
  readonly codec: Codec;
  readonly store: ReturnType<typeof runtimeStore>;
  readonly timeoutMs: number;
}

/** Replays one flow's history. */
async function checkFlow(
  entry: FlowExport,
  definitions: ReadonlyMap<string, AnyFlowDefinition>,
  context: CheckContext,
): Promise<FlowCheck> {
  const { flow, history } = entry;
  const base = { flowId: flow.id, type: flow.type };
  const definition = definitions.get(flow.type);
  if (!definition) {
    const known = [...definitions.keys()].join(', ') || 'none';
    return {
      ...base,
      status: 'unknown-type',
      message: `flow ${flow.id}: no flow definition of type ${JSON.stringify(flow.type)} in the code (known: ${known})`,
    };
  }
  const activation = new Activation({
    flow: flow as FlowRecord,
    token: flow.fencingToken,
    history,
    store: context.store,
    codec: context.codec,
    clock: systemClock,
    logger: noopLogger,
    definition,
    durableBackoffMs: Number.MAX_SAFE_INTEGER,
    traceContext: ROOT_CONTEXT,
    telemetry: TELEMETRY_OFF,
    replayOnly: true,
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), context.timeoutMs);
  });
  const outcome = await Promise.race([activation.start(), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    activation.abandon(new Error('replay check timed out'));
    return {
      ...base,
      status: 'error',
      message: `flow ${flow.id}: its replay did not settle within ${context.timeoutMs} ms (does the flow await something outside ctx?)`,
    };
  }
  return verdict(entry, activation, outcome);
}

function verdict(entry: FlowExport, activation: Activation, outcome: ActivationOutcome): FlowCheck {
  const { flow, history } = entry;
  const base = { flowId: flow.id, type: flow.type };
  if (outcome.kind === 'fatal') {
    const error = outcome.error;
    if (error instanceof NonDeterminismError) {
      const location = locationOf(error);
      return {
        ...base,
        status: 'diverged',
        position: error.position,
        recordedKey: error.recordedKey,
        recordedKind: error.recordedKind,
        calledKey: error.calledKey,
        calledKind: error.calledKind,
        location,
        message:
          `flow ${flow.id}: at position ${error.position} history recorded ${error.recordedKind} '${error.recordedKey}' ` +
          `but the code calls ${error.calledKind} '${error.calledKey}'${location ? ` (${location})` : ''}`,
      };
    }
    return { ...base, status: 'error', message: `flow ${flow.id}: ${error.message}` };
  }
  if (outcome.kind === 'abandoned' && !isReplayWriteRefused(outcome.error)) {
    return { ...base, status: 'error', message: `flow ${flow.id}: ${toError(outcome.error).message}` };
  }
  const next = activation.nextPosition;
  if (outcome.kind === 'completed' || outcome.kind === 'failed') {
    // The code ended: a recorded operation it never called means it took another path.
    const missed = history.find((r) => r.position >= next && r.status !== 'waiting');
    if (missed) {
      return {
        ...base,
        status: 'diverged',
        position: missed.position,
        recordedKey: missed.key,
        recordedKind: missed.kind,
        message: `flow ${flow.id}: history recorded ${missed.kind} '${missed.key}' at position ${missed.position} but the code ended without calling it`,
      };
    }
  }
  const stoppedAt =
    outcome.kind === 'blocked'
      ? [...new Set(outcome.waits.map((w) => w.position))].sort((a, b) => a - b)
      : [];
  return {
    ...base,
    status: 'ok',
    replayed: history.filter((r) => r.position < next).length,
    stoppedAt,
  };
}
