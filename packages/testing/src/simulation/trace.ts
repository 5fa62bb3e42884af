/**
 * The trace: every store call the fault wrappers let through to the real
 * store, with its request, its reply (or error) and when it started and
 * settled on one shared counter, plus what the caller was told. The checker
 * reads it; its digest shows whether two runs of a seed did the same thing.
 *
 * @module
 */
import { hash32 } from './prng.js';
import type { FaultKind } from './fault-plan.js';

/** One call that reached the store. */
export interface TraceEntry {
  /** Its index in the trace. */
  readonly id: number;
  /** The worker (`w0`, `w0.1` after a restart) or `client`. */
  readonly caller: string;
  /** The store method (`claim`, `recordOperation`, ...). */
  readonly method: string;
  /** The request as the runtime wrapper passed it (`flowId` first for the one-flow reads). */
  readonly request: unknown;
  /** Simulated time when it was sent. */
  readonly now: number;
  /** The shared counter when it was sent. */
  readonly invokedAt: number;
  /** The shared counter when the store answered. */
  settledAt?: number;
  /** True when the store answered with a value, false when it threw. */
  ok?: boolean;
  /** The reply, when the store answered with a value. */
  readonly value?: unknown;
  /** The store's error code (or message when it has none). */
  error?: string;
  /** The fault this call met, if any (`duplicate`: this is the second delivery). */
  readonly fault?: FaultKind | undefined;
}

/** The trace of one seed. */
export class Trace {
  /** Every call, in the order they were sent. */
  readonly entries: TraceEntry[] = [];
  /** Calls that reached the store and have not answered yet. */
  inflight = 0;
  #counter = 0;
  #listeners = new Set<() => void>();

  /** Any call started or settled: a quiescence check's progress mark. */
  get activity(): number {
    return this.#counter;
  }

  /**
   * A hash of every call and reply in order (who, what, when, for which flow
   * and lease, and the outcome); equal digests mean the same run. Computed
   * when asked for.
   */
  get digest(): string {
    let h = 0;
    for (const e of this.entries) {
      h = hash32(h, `${e.caller} ${e.method} ${e.now} ${e.fault ?? ''} ${summarize(e.request)}`);
      h = hash32(h, `${e.invokedAt} ${e.settledAt} ${e.ok ? summarize(e.value) : e.error}`);
    }
    return h.toString(16).padStart(8, '0');
  }

  /** Marks progress that is not a store call (a delayed call waiting its turn). */
  touch(): void {
    this.#counter++;
  }

  /** Records a call about to reach the store. */
  begin(caller: string, method: string, request: unknown, now: number, fault?: FaultKind): TraceEntry {
    const entry: TraceEntry = {
      id: this.entries.length,
      caller,
      method,
      request,
      now,
      invokedAt: ++this.#counter,
      fault,
    };
    this.entries.push(entry);
    this.inflight++;
    return entry;
  }

  /** Records the store's answer to `entry`. */
  end(entry: TraceEntry, outcome: { ok: true; value: unknown } | { ok: false; error: unknown }): void {
    const mutable = entry as { -readonly [K in keyof TraceEntry]: TraceEntry[K] };
    mutable.settledAt = ++this.#counter;
    mutable.ok = outcome.ok;
    if (outcome.ok) mutable.value = outcome.value;
    else mutable.error = errorCode(outcome.error);
    this.inflight--;
    for (const listener of this.#listeners) listener();
  }

  /** Called on every settle; returns an unsubscribe function. */
  onSettle(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** An error's stable code, else its message. */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * A short, deterministic text of a request or reply for the digest: the
 * fields that say which flow, which lease, which position and what happened
 * (the whole values would cost more than the run).
 */
function summarize(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  if (Array.isArray(value)) return `[${value.map(summarize).join(',')}]`;
  const v = value as Record<string, unknown>;
  const record = v.record as Record<string, unknown> | undefined;
  const flow = v.flow as Record<string, unknown> | undefined;
  return [
    v.flowId ?? v.id ?? flow?.id,
    v.token ?? v.fencingToken ?? flow?.fencingToken,
    v.status ?? flow?.status ?? v.outcome,
    record ? `${record.position}:${record.status}:${record.finishedAt}` : '',
    v.position,
    v.existed ?? v.created,
    v.now,
  ].join('|');
}
