/**
 * A failing seed's trace for a human: one line per store call, in the order
 * they were sent, with the simulated time, the caller, the fault it met, the
 * request and the answer, optionally only those naming some flows.
 *
 * @module
 */
import type { ClaimedFlow } from '@ergon/core';
import type { TraceEntry } from './trace.js';

/** Options of {@link formatTrace}. */
export interface FormatTraceOptions {
  /** Only calls about these flows (and claims that took them); default every call. */
  readonly flows?: readonly string[];
  /** Simulated time of the start (lines show seconds after it). Default 2030-01-01. */
  readonly start?: number;
  /** Longest text of a request or answer. Default 160. */
  readonly width?: number;
}

/** The lines of `entries`. */
export function formatTrace(entries: readonly TraceEntry[], options: FormatTraceOptions = {}): string[] {
  const start = options.start ?? Date.UTC(2030, 0, 1);
  const width = options.width ?? 160;
  const wanted = options.flows ? new Set(options.flows) : undefined;
  const lines: string[] = [];
  for (const e of entries) {
    if (wanted && !flowsOf(e).some((id) => wanted.has(id))) continue;
    const seconds = ((e.now - start) / 1000).toFixed(3);
    const answer = e.ok ? short(e.value, width) : `! ${e.error}`;
    lines.push(
      `${seconds}s #${e.id} ${e.caller} ${e.method}${e.fault ? ` [${e.fault}]` : ''} ${short(e.request, width)} → ${answer}`,
    );
  }
  return lines;
}

function flowsOf(e: TraceEntry): string[] {
  const request = (e.request ?? {}) as { flowId?: string; id?: string };
  const ids = [request.flowId ?? request.id ?? ''];
  if (e.method === 'claim' && e.ok) ids.push(...(e.value as ClaimedFlow[]).map((c) => c.flow.id));
  return ids;
}

function short(value: unknown, width: number): string {
  const text =
    JSON.stringify(value, (key, v) => (key === 'signal' ? undefined : key === 'record' ? brief(v) : v)) ??
    'undefined';
  return text.length > width ? `${text.slice(0, width)}…` : text;
}

function brief(record: { position?: number; key?: string; status?: string }): string {
  return `${record.position}:${record.key}:${record.status ?? 'consume'}`;
}
