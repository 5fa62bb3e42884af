/**
 * A flow's progress (what it reported with `ctx.progress`) for the page: the
 * value as text, and a bar when the value says how far along it is (a number
 * in 0..1, or an object with numeric `current`/`total` or `done`/`total`).
 * Anything else is shown as text only.
 *
 * @module
 */
import { pretty } from './values.js';

/** How far along a flow is, for a bar: a fraction in 0..1 and its words (`3 / 4`, `42%`). */
export interface ProgressBar {
  /** How far along, in 0..1. */
  readonly fraction: number;
  /** The words beside the bar (`3 / 4`, `42%`). */
  readonly label: string;
}

/** The compact progress of a list row: one line of text and, when it has one, the bar's fraction. */
export interface ProgressSummary {
  /** The progress in one line (cut to 80 characters). */
  readonly text: string;
  /** How far along, in 0..1, when the value says. */
  readonly fraction?: number | undefined;
}

/** Longest progress text in a list row. */
const SUMMARY_CHARS = 80;

/** The bar `value` implies, or undefined when it does not say how far along the flow is. */
export function progressBar(value: unknown): ProgressBar | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value > 1) return undefined;
    return { fraction: value, label: percent(value) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  const total = fields.total;
  const current = typeof fields.current === 'number' ? fields.current : fields.done;
  if (typeof current !== 'number' || typeof total !== 'number') return undefined;
  if (!Number.isFinite(current) || !Number.isFinite(total) || total <= 0 || current < 0) return undefined;
  const fraction = Math.min(1, current / total);
  return { fraction, label: `${formatCount(current)} / ${formatCount(total)} (${percent(fraction)})` };
}

/** The progress of a list row: the bar's words when there is a bar, else the value on one line. */
export function progressSummary(value: unknown): ProgressSummary {
  const bar = progressBar(value);
  if (bar) return { text: bar.label, fraction: bar.fraction };
  const line = (typeof value === 'string' ? value : pretty(value)).replace(/\s+/g, ' ').trim();
  return { text: line.length > SUMMARY_CHARS ? `${line.slice(0, SUMMARY_CHARS)}…` : line };
}

function percent(fraction: number): string {
  const value = fraction * 100;
  return `${value >= 10 || value === 0 ? Math.floor(value) : value.toFixed(1)}%`;
}

function formatCount(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : String(Math.round(n * 100) / 100);
}
