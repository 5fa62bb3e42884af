/**
 * Flows with their histories as JSON lines: the format of `ergon flows export`,
 * read by `ergon flows import`, by `replayCheck` (`histories`) and by bug
 * reports. One line per flow: `{ "format": "ergon-flow/1", "flow", "history", "signals" }`,
 * every record exactly as the store holds it (values stay encoded by the codec).
 *
 * @module
 */
import {
  type FlowQuery,
  type FlowRecord,
  InvalidArgumentError,
  type OperationRecord,
  runtimeStore,
  type SignalRecord,
  type StoreInput,
} from '@ergon/core';

/** The format tag of a line. */
export const FLOW_EXPORT_FORMAT = 'ergon-flow/1';

/** One exported flow: its record, its history (by position) and its buffered signals (oldest first). */
export interface FlowExport {
  /** The flow record as stored. */
  readonly flow: FlowRecord;
  /** Its history, ordered by position. */
  readonly history: readonly OperationRecord[];
  /** Its buffered (unconsumed) signals, oldest first. */
  readonly signals: readonly SignalRecord[];
}

/** The JSON line of `entry` (no trailing newline). */
export function toExportLine(entry: FlowExport): string {
  return JSON.stringify({ format: FLOW_EXPORT_FORMAT, ...entry });
}

function bad(where: string, what: string): never {
  throw new InvalidArgumentError(
    `${where} is not an exported flow: ${what}. Use a file written by \`ergon flows export\` (one JSON object per line)`,
  );
}

/**
 * Reads one JSON line of an export. Checks its shape (format tag, a flow with id and type,
 * history and signals arrays); the store's import checks each record fully.
 * @throws InvalidArgumentError naming `where` (such as `line 3 of flows.jsonl`).
 */
export function parseExportLine(line: string, where = 'the line'): FlowExport {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    bad(where, 'not JSON');
  }
  if (typeof value !== 'object' || value === null) bad(where, 'not a JSON object');
  const o = value as Record<string, unknown>;
  if (o.format !== FLOW_EXPORT_FORMAT)
    bad(where, `format ${JSON.stringify(o.format)} is not ${FLOW_EXPORT_FORMAT}`);
  const flow = o.flow as Record<string, unknown> | undefined;
  if (
    typeof flow !== 'object' ||
    flow === null ||
    typeof flow.id !== 'string' ||
    typeof flow.type !== 'string'
  )
    bad(where, 'no flow with an id and a type');
  if (!Array.isArray(o.history)) bad(where, 'no history array');
  const signals = o.signals === undefined ? [] : o.signals;
  if (!Array.isArray(signals)) bad(where, 'signals is not an array');
  return {
    flow: flow as unknown as FlowRecord,
    history: o.history as OperationRecord[],
    signals: signals as SignalRecord[],
  };
}

/** Reads the flows of a JSON-lines export (blank lines skipped). */
export function parseExport(text: string, source = 'the export'): FlowExport[] {
  const out: FlowExport[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    out.push(parseExportLine(line, `line ${i + 1} of ${source}`));
  }
  return out;
}

/**
 * The flows matching `query` with their histories and signals, read page by page (newest
 * first, as `listFlows` orders them). `query.limit` caps the total; pages are up to 500.
 */
export async function* readFlows(store: StoreInput, query: FlowQuery = {}): AsyncGenerator<FlowExport> {
  const log = runtimeStore(store);
  let left = query.limit ?? Number.POSITIVE_INFINITY;
  let cursor = query.cursor;
  while (left > 0) {
    const page = await log.listFlows({ ...query, cursor, limit: Math.min(500, left) });
    for (const flow of page.flows) {
      const [history, signals] = await Promise.all([log.getHistory(flow.id), log.getSignals(flow.id)]);
      yield { flow, history, signals };
      left--;
    }
    if (!page.nextCursor || page.flows.length === 0) return;
    cursor = page.nextCursor;
  }
}

/** What {@link importFlows} did. */
export interface ImportReport {
  /** Ids of the flows written. */
  readonly imported: readonly string[];
  /** Ids already in the store: left as they were (first write wins). */
  readonly skipped: readonly string[];
}

/**
 * Writes exported flows into `store`, each with its history and signals in one atomic step
 * (the store's `importFlow`). A flow whose id exists is skipped, never merged.
 * @throws InvalidArgumentError for a malformed entry (nothing of it is written) or a store
 *   without `importFlow`.
 */
export async function importFlows(
  store: StoreInput,
  entries: Iterable<FlowExport> | AsyncIterable<FlowExport>,
  options: { readonly now?: number } = {},
): Promise<ImportReport> {
  const log = runtimeStore(store);
  const imported: string[] = [];
  const skipped: string[] = [];
  for await (const entry of entries) {
    const result = await log.importFlow({
      flow: entry.flow,
      history: entry.history,
      signals: entry.signals.map((s) => ({ name: s.name, payload: s.payload, sentAt: s.sentAt })),
      now: options.now ?? Date.now(),
    });
    (result.created ? imported : skipped).push(entry.flow.id);
  }
  return { imported, skipped };
}
