/**
 * Run sizes and service locations. `--quick` shrinks every benchmark so the whole
 * run takes about two minutes; `ERGON_BENCH_SIZE=smoke` makes them tiny (the smoke test).
 *
 * @module
 */

export type Mode = 'full' | 'quick' | 'smoke';

export interface Sizes {
  /**
   * Step overhead: rounds, each timing `stepFlows` 100-step flows and then the raw
   * driver writing as many records; the median round of each side is reported.
   * A round must span several SQLite WAL checkpoints (one per 1000 pages written,
   * several ms each): with rounds of a few hundred records, the rounds that happen
   * to contain none are the faster half, and the median then drops the checkpoint
   * cost from one side and not the other.
   */
  readonly stepFlows: number;
  readonly stepsPerFlow: number;
  readonly stepRounds: number;
  /** Throughput: flows (jobs) per run, worker processes, concurrency per process. */
  readonly throughputFlows: number;
  /**
   * Throughput: flows (jobs) each side first runs through its worker processes untimed. A new
   * worker process spends its first several thousand flows in V8's compilers (a Worker on SQLite
   * in one process, rounds of 2,000: ~106 µs CPU per flow in the first, ~47 in the second, ~30
   * from the fourth on; BullMQ's workers warm up alike), which in a timed run of 2,000 is most
   * of the run: the quick run warms up as long as the full one.
   */
  readonly throughputWarmup: number;
  /**
   * Throughput: timed rounds per side, one after another on the same warm workers; the median is
   * reported. A quick round of 2,000 flows lasts 0.1–0.3 s, and one such round alone moved a
   * side's rate by a fifth or more from one run to the next.
   */
  readonly throughputRounds: number;
  readonly workers: number;
  readonly concurrency: number;
  /** Idle latency: samples, and the idle gap before each one. */
  readonly latencySamples: number;
  readonly latencyGapMs: number;
  /** Recovery: trials (median taken); `short` shortens leases and BullMQ's lock (smoke only). */
  readonly recoveryTrials: number;
  readonly recoveryShort: boolean;
  /** Timers: sleeping flows and the range of their sleeps. */
  readonly timerFlows: number;
  readonly timerMinMs: number;
  readonly timerMaxMs: number;
  /** Resume: finished steps before the resume, and trials (median taken). */
  readonly resumeSteps: number;
  readonly resumeTrials: number;
  /** Cancel latency: cancels of running flows per store (median and p99 taken). */
  readonly cancelTrials: number;
}

const FULL: Sizes = {
  stepFlows: 20,
  stepsPerFlow: 100,
  stepRounds: 40,
  throughputFlows: 10_000,
  throughputWarmup: 10_000,
  throughputRounds: 3,
  workers: 2,
  concurrency: 50,
  latencySamples: 1000,
  latencyGapMs: 20,
  recoveryTrials: 3,
  recoveryShort: false,
  timerFlows: 100_000,
  timerMinMs: 1000,
  timerMaxMs: 30_000,
  resumeSteps: 10_000,
  resumeTrials: 3,
  cancelTrials: 50,
};

const QUICK: Sizes = {
  ...FULL,
  stepRounds: 15,
  throughputFlows: 2000,
  throughputWarmup: 10_000,
  latencySamples: 200,
  latencyGapMs: 10,
  recoveryTrials: 1,
  timerFlows: 10_000,
  timerMaxMs: 5000,
  resumeTrials: 1,
  cancelTrials: 20,
};

const SMOKE: Sizes = {
  ...QUICK,
  stepFlows: 2,
  stepRounds: 2,
  throughputFlows: 100,
  throughputWarmup: 50,
  throughputRounds: 2,
  latencySamples: 20,
  latencyGapMs: 5,
  recoveryShort: true,
  timerFlows: 200,
  timerMinMs: 300,
  timerMaxMs: 1000,
  resumeSteps: 500,
  cancelTrials: 3,
};

export function sizesFor(mode: Mode): Sizes {
  return mode === 'full' ? FULL : mode === 'quick' ? QUICK : SMOKE;
}

export const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const POSTGRES_URL = process.env.ERGON_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
