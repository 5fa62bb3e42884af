/**
 * Progress bars for long work (scheduling many flows, waiting for many),
 * drawn on stderr only when it is a terminal and `--json` is off; otherwise
 * silent, so pipes and logs stay clean.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import type { Output } from './output.js';

/** A running progress display. */
export interface Progress {
  /** Sets how much is done. */
  update(value: number): void;
  /** Changes the total (work discovered while draining). */
  setTotal(total: number): void;
  /** Removes the bar; call once, always (also on failure). */
  stop(): void;
}

const SILENT: Progress = { update() {}, setTotal() {}, stop() {} };

/** Starts a bar labelled `label` out of `total`, or a silent stand-in when bars are off. */
export function startProgress(out: Output, options: { label: string; total: number }): Progress {
  if (!out.interactive) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream: out.progressStream,
      format: `${options.label} [{bar}] {value}/{total} | {percentage}% | {duration_formatted} | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(options.total, 0);
  let stopped = false;
  return {
    update: (value) => bar.update(value),
    setTotal: (total) => bar.setTotal(total),
    stop: () => {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
