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

/** A running count of finished work whose total is not known (a task draining its source). */
export interface Counter {
  /** Sets the counts shown. */
  update(done: number, failed: number): void;
  /** Removes the display; call once, always. */
  stop(): void;
}

/** Starts a counter labelled `label`, or a silent stand-in when progress is off. */
export function startCounter(out: Output, label: string): Counter {
  if (!out.interactive) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    stream: out.progressStream,
    format: `${label}: {value} processed, {failed} failed | {duration_formatted}`,
    hideCursor: true,
    clearOnComplete: true,
  });
  // No total: the bar is only a counter, so the total just has to stay ahead of the count.
  bar.start(Number.MAX_SAFE_INTEGER, 0, { failed: 0 });
  let stopped = false;
  return {
    update: (done, failed) => bar.update(done, { failed }),
    stop: () => {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
