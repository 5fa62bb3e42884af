/**
 * Timed runs of worker processes: a warm-up batch, then `go` and the rate to
 * the last completion, with the workers' CPU from `go`.
 *
 * @module
 */
import { wallNow } from './clock.js';
import { completion, type WorkerProcess } from './procs.js';

export interface RunResult {
  readonly perSecond: number;
  readonly seconds: number;
  readonly enqueueSeconds: number;
  readonly workerCpuMs: number;
  /** The warm-up batch's rate: the same workers, cold. */
  readonly coldPerSecond?: number;
  /** Each timed round's rate, in order, when there were several (the fields above are the median round's). */
  readonly rounds?: readonly number[];
}

/**
 * Runs `count` items (`enqueue` adds them) through `workers` untimed, then
 * pauses them: the code each side runs per item is compiled before its timed
 * run, as in a worker that has been up a while. Returns the batch's rate.
 */
export async function warmUp(
  workers: WorkerProcess[],
  count: number,
  enqueue: (count: number) => Promise<unknown>,
): Promise<number> {
  await enqueue(count);
  const done = completion(workers, count, 120_000 + count * 20);
  const go = wallNow();
  for (const w of workers) w.send({ type: 'go' });
  const end = await done;
  await pause(workers, {});
  return count / ((end - go) / 1000);
}

/** Tells every worker `pause` (with `fields`) and waits until each has finished what it holds. */
async function pause(workers: WorkerProcess[], fields: Record<string, unknown>): Promise<void> {
  await Promise.all(
    workers.map((w) => {
      const paused = w.waitFor((m) => m.type === 'paused', 30_000, 'paused');
      w.send({ ...fields, type: 'pause' });
      return paused;
    }),
  );
}

/**
 * `rounds` timed runs of `total` items through the same (warm) workers, one after another, and
 * the median round: a quick run's round is a fraction of a second, so one round alone is mostly
 * noise. `enqueue(round)` adds a round's items before its `go` (timed apart, as `enqueueSeconds`);
 * `pauseFields(round)` goes with the `pause` after each round but the last (the next round's
 * queue, for a peer that takes one), and the workers stop after the last.
 */
export async function timedRounds(
  workers: WorkerProcess[],
  rounds: number,
  total: number,
  enqueue: (round: number) => Promise<unknown>,
  pauseFields: (round: number) => Record<string, unknown> = () => ({}),
): Promise<RunResult> {
  const results: RunResult[] = [];
  for (let round = 0; round < rounds; round++) {
    const t0 = wallNow();
    await enqueue(round);
    const enqueueSeconds = (wallNow() - t0) / 1000;
    const last = round === rounds - 1;
    results.push({ ...(await drive(workers, total, last ? undefined : pauseFields(round))), enqueueSeconds });
  }
  const median = [...results].sort((a, b) => a.perSecond - b.perSecond)[Math.floor((rounds - 1) / 2)];
  if (!median) throw new Error('timedRounds needs at least one round');
  return { ...median, rounds: results.map((r) => Math.round(r.perSecond)) };
}

/**
 * Tells every worker `go` and waits for `total` completions; then pauses them with `pauseFields`
 * when given, or stops them. The CPU is the workers' from `go` to the end.
 */
export async function drive(
  workers: WorkerProcess[],
  total: number,
  pauseFields?: Record<string, unknown>,
): Promise<Omit<RunResult, 'enqueueSeconds'>> {
  const timeoutMs = 120_000 + total * 20;
  const cpuAtGo = await cpuOf(workers, 'go');
  const done = completion(workers, total, timeoutMs);
  const go = wallNow();
  for (const w of workers) w.send({ type: 'go' });
  let end: number | undefined;
  let failure: unknown;
  try {
    end = await done;
  } catch (error) {
    failure = error;
  }
  if (end === undefined) {
    await Promise.all(workers.map((w) => w.stop()));
    throw failure;
  }
  const seconds = (end - go) / 1000;
  let cpuAtEnd: number;
  if (pauseFields) {
    cpuAtEnd = await cpuOf(workers, 'end');
    await pause(workers, pauseFields);
  } else {
    const finals = await Promise.all(workers.map((w) => w.stop()));
    cpuAtEnd = finals.reduce((sum, f) => sum + Number(f?.cpuMs ?? 0), 0);
  }
  // From `go`: start-up and loading are not the flows' cost.
  return { perSecond: total / seconds, seconds, workerCpuMs: cpuAtEnd - cpuAtGo };
}

/** The CPU ms the worker processes have used so far, summed. */
export async function cpuOf(workers: readonly WorkerProcess[], tag: string): Promise<number> {
  const replies = await Promise.all(
    workers.map((w) => {
      const reply = w.waitFor((m) => m.type === 'cpu' && m.tag === tag, 10_000, 'cpu');
      w.send({ type: 'cpu', tag });
      return reply;
    }),
  );
  return replies.reduce((sum, m) => sum + Number(m.cpuMs), 0);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: number, limit: number, fn: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items) }, async () => {
      while (next < items) await fn(next++);
    }),
  );
}
