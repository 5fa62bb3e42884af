/**
 * What a benchmark family looks like to the CLI.
 *
 * @module
 */
import type { Mode, Sizes } from './config.js';
import type { Better, Row, RowName } from './results.js';

export interface BenchContext {
  readonly mode: Mode;
  readonly sizes: Sizes;
  /** Progress lines for the person watching. */
  readonly log: (line: string) => void;
}

/** One runnable benchmark: it produces the rows named in `rows`. */
export interface Bench {
  readonly id: string;
  readonly rows: readonly { readonly name: RowName; readonly unit: string; readonly better: Better }[];
  readonly run: (context: BenchContext) => Promise<Row[]>;
  /**
   * Runs alongside the others instead of in turn: it spends its time waiting
   * (seconds to minutes) on processes that sit idle, so it neither disturbs the
   * other measurements nor is disturbed by them at its resolution.
   */
  readonly background?: boolean;
}
