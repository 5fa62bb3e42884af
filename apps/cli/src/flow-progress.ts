/**
 * A flow's progress (`ctx.progress`) for `flows show`: a bar and counts when
 * the value says how far along the flow is (a number in 0..1, or numeric
 * `current`/`total` or `done`/`total`), and the value itself on one line.
 *
 * @module
 */
import { preview } from './format.js';

/** Cells of the bar. */
const WIDTH = 20;

/** How far along `value` says the flow is, in 0..1, with its words; undefined when it does not say. */
export function progressFraction(value: unknown): { fraction: number; label: string } | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 && value <= 1
      ? { fraction: value, label: percent(value) }
      : undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  const current = typeof fields.current === 'number' ? fields.current : fields.done;
  const total = fields.total;
  if (typeof current !== 'number' || typeof total !== 'number') return undefined;
  if (!Number.isFinite(current) || !Number.isFinite(total) || total <= 0 || current < 0) return undefined;
  const fraction = Math.min(1, current / total);
  return { fraction, label: `${current} / ${total} (${percent(fraction)})` };
}

/** The lines `flows show` prints for a progress value: the bar (when there is one), then the value. */
export function progressLines(value: unknown, charset: 'unicode' | 'ascii'): string[] {
  const text = preview(value, 200);
  const known = progressFraction(value);
  if (!known) return [text];
  const filled = Math.round(known.fraction * WIDTH);
  const [full, empty] = charset === 'unicode' ? ['█', '░'] : ['#', '-'];
  const bar = `[${full.repeat(filled)}${empty.repeat(WIDTH - filled)}] ${known.label}`;
  return typeof value === 'number' ? [bar] : [bar, text];
}

function percent(fraction: number): string {
  return `${Math.floor(fraction * 100)}%`;
}
