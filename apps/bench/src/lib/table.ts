/**
 * The printed table.
 *
 * @module
 */
import type { Row } from './results.js';

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    const abs = Math.abs(value);
    return abs >= 100
      ? value.toFixed(0)
      : abs >= 10
        ? value.toFixed(1)
        : abs >= 1
          ? value.toFixed(2)
          : value.toFixed(3);
  }
  return String(value);
}

export function formatTable(rows: readonly Row[]): string {
  const header = ['name', 'unit', 'ergon', 'peer', 'peer value', 'ratio', 'better', 'target', 'met'];
  const body = rows.map((r) => [
    r.name,
    r.unit,
    r.error ? 'FAILED' : show(r.ergon),
    r.peer ?? '—',
    show(r.peerValue),
    r.ratio === null ? '—' : `${show(r.ratio)}×`,
    r.better,
    r.target ?? '—',
    r.meetsTarget === null ? '—' : r.meetsTarget ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((line) => (line[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
