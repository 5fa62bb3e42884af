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
  await Promise.all(
    workers.map((w) => {
      const paused = w.waitFor((m) => m.type === 'paused', 30_000, 'paused');
      w.send({ type: 'pause' });
      return paused;
    }),
  );
  return count / ((end - go) / 1000);
}

/** Tells every worker `go`, waits for `total` completions, stops them. */
export async function drive(
  workers: WorkerProcess[],
  total: number,
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
  const finals = await Promise.all(workers.map((w) => w.stop()));
  if (end === undefined) throw failure;
  const seconds = (end - go) / 1000;
  // From `go`: start-up and loading are not the flows' cost.
  const workerCpuMs = finals.reduce((sum, f) => sum + Number(f?.cpuMs ?? 0), 0) - cpuAtGo;
  return { perSecond: total / seconds, seconds, workerCpuMs };
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
