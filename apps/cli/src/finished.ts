/**
 * Reporting flows that finished (after `flows wait` or `schedule --wait`):
 * a line per flow or a table, counts per status, and exit code 3 when any
 * failed or was cancelled.
 *
 * @module
 */
import { defaultCodec, type FlowRecord, type FlowStatus } from '@ergon/core';
import { ExitCode } from './errors.js';
import { errorText, iso, localTime, preview } from './format.js';
import { type Output, renderTable } from './output.js';

const TABLE_LIMIT = 50;

/** Prints the outcome of `flows` and returns the exit code it calls for. */
export function reportFinished(out: Output, flows: readonly FlowRecord[]): ExitCode {
  const decoded = flows.map((f) => ({
    flow: f,
    result: decode(f.result),
    error: decode(f.error),
  }));
  const counts: Partial<Record<FlowStatus, number>> = {};
  for (const { flow } of decoded) counts[flow.status] = (counts[flow.status] ?? 0) + 1;
  out.data({
    flows: decoded.map(({ flow, result, error }) => ({
      id: flow.id,
      type: flow.type,
      status: flow.status,
      result,
      error,
      finishedAt: iso(flow.finishedAt),
    })),
    counts,
  });
  const [only] = decoded;
  if (decoded.length === 1 && only) {
    const { flow, result, error } = only;
    out.text(
      flow.status === 'completed'
        ? `flow ${flow.id} completed: ${preview(result, 400)}`
        : `flow ${flow.id} ${flow.status}: ${errorText(error, 400) || 'no error recorded'}`,
    );
  } else {
    if (decoded.length <= TABLE_LIMIT) {
      const rows = decoded.map(({ flow, result, error }) => [
        flow.id,
        flow.type,
        flow.status,
        localTime(flow.finishedAt),
        flow.status === 'completed' ? preview(result, 50) : errorText(error, 50),
      ]);
      out.text(renderTable(['id', 'type', 'status', 'finished', 'result / error'], rows));
    }
    const parts = Object.entries(counts).map(([status, n]) => `${n} ${status}`);
    out.text(`${decoded.length} flow${decoded.length === 1 ? '' : 's'} finished: ${parts.join(', ')}`);
  }
  return flows.every((f) => f.status === 'completed') ? ExitCode.OK : ExitCode.FLOW_UNSUCCESSFUL;
}

function decode(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return defaultCodec.decode(text);
  } catch {
    return { unreadable: text.length > 200 ? `${text.slice(0, 200)}…` : text };
  }
}
