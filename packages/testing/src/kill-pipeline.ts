/**
 * The drive of a connector package's SIGKILL pipeline test: consumer
 * processes run a queue's transactions (as durable flows) until all are
 * finished, while some of them are SIGKILLed at set points of progress and
 * each victim is replaced at once; the survivors are stopped gracefully at
 * the end. The test itself fills the queue and checks the outcome (every
 * effect once, every flow completed, nothing pending or dead-lettered).
 *
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';

/** Options of {@link runKillPipeline}. */
export interface KillPipelineOptions {
  /** Processes running at once, in slots `0 … processes − 1`. */
  readonly processes: number;
  /** SIGKILLs during the run; each victim's slot is started again at once. */
  readonly kills: number;
  /** Transactions the run must finish. */
  readonly total: number;
  /** Starts the process of `slot` (again, after a kill of it); resolves once it runs. */
  readonly start: (slot: number) => ChildProcess | Promise<ChildProcess>;
  /** How many transactions are finished so far. */
  readonly finished: () => Promise<number>;
  /** What else must hold, once `total` are finished, for the run to be over (nothing left pending). Default: nothing. */
  readonly drained?: () => Promise<boolean>;
  /**
   * After how many finished transactions kill `k` (0-based) is due. Default evenly spaced over the
   * first 70 %: `(k + 1) · 0.7 · total / kills`, so a fast run still has work left after the last.
   */
  readonly killAt?: (kill: number) => number;
  /** The run fails after this long. */
  readonly timeoutMs: number;
  /** What else the timeout's error says (what is left pending, say). */
  readonly left?: () => Promise<string>;
  /** How often progress is looked at. Default 50 ms. */
  readonly pollMs?: number;
  /** How long a survivor may take to exit after SIGTERM at the end before the run fails. Default 30 s. */
  readonly stopTimeoutMs?: number;
}

/** What a run did. */
export interface KillPipelineRun {
  /** SIGKILLs made (the test expects `kills`). */
  readonly kills: number;
  /** From the first start to the last transaction finished (and drained). */
  readonly seconds: number;
}

/**
 * Starts `processes` processes, kills one at each due point (slot `k %
 * processes`, so the kills go round the slots) and starts its slot again,
 * waits until `total` transactions are finished (and `drained`), then stops
 * the survivors with SIGTERM and waits for them to exit. Processes still
 * running when it fails are SIGKILLed.
 *
 * @throws Error naming the progress when `timeoutMs` passes first.
 */
export async function runKillPipeline(options: KillPipelineOptions): Promise<KillPipelineRun> {
  const { processes, kills: wanted, total, finished, timeoutMs } = options;
  const killAt = options.killAt ?? ((k: number) => ((k + 1) * 0.7 * total) / wanted);
  const running = new Map<number, ChildProcess>();
  const start = async (slot: number) => {
    const child = await options.start(slot);
    running.set(slot, child);
    child.once('exit', () => {
      if (running.get(slot) === child) running.delete(slot);
    });
  };
  const startedAt = Date.now();
  try {
    await Promise.all(Array.from({ length: processes }, (_, slot) => start(slot)));
    let kills = 0;
    // Replacements start in the background: waiting for one would let a fast run end before the next kill.
    const starting = new Set<Promise<void>>();
    const deadline = startedAt + timeoutMs;
    for (;;) {
      const done = await finished();
      if (done >= total && (!options.drained || (await options.drained()))) break;
      if (Date.now() > deadline) {
        const left = options.left ? `, ${await options.left()}` : '';
        throw new Error(`only ${done} of ${total} transactions finished within ${timeoutMs} ms${left}`);
      }
      // The victim: the next slot round the ring whose process runs (one being replaced is skipped).
      const slot = [...Array(processes).keys()]
        .map((i) => (kills + i) % processes)
        .find((s) => running.has(s));
      const victim = slot === undefined ? undefined : running.get(slot);
      if (kills < wanted && done >= killAt(kills) && slot !== undefined && victim) {
        const exited = once(victim, 'exit');
        victim.kill('SIGKILL');
        await exited;
        kills++;
        const replaced = start(slot).finally(() => starting.delete(replaced));
        starting.add(replaced);
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 50));
    }
    await Promise.all(starting);
    const seconds = (Date.now() - startedAt) / 1000;
    const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
    const hung = await stopSurvivors(running, stopTimeoutMs);
    if (hung.length > 0) {
      throw new Error(
        `the processes of slots ${hung.join(', ')} did not exit within ${stopTimeoutMs} ms of SIGTERM: their graceful stop hangs`,
      );
    }
    return { kills, seconds };
  } finally {
    for (const child of running.values()) child.kill('SIGKILL');
  }
}

/** SIGTERMs every process still running and waits for each to exit; returns the slots of those that did not within `timeoutMs`. */
async function stopSurvivors(running: ReadonlyMap<number, ChildProcess>, timeoutMs: number): Promise<number[]> {
  const hung: number[] = [];
  await Promise.all(
    [...running].map(async ([slot, child]) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), timeoutMs);
      });
      if ((await Promise.race([exited, late])) === 'late') hung.push(slot);
      clearTimeout(timer);
    }),
  );
  return hung.sort((a, b) => a - b);
}

/**
 * The effects a pipeline's steps recorded with `recordFileEffect` (from
 * `@ergon/testing/pipeline-child`): one file per idempotency key, named by
 * its URI encoding.
 */
export async function readFileEffects(dir: string): Promise<Set<string>> {
  return new Set((await readdir(dir)).map((name) => decodeURIComponent(name)));
}

/** How many effects recorded with `recordFileEffect` have an idempotency key ending with `suffix` (e.g. `'/b#0'`: the flows past step b). */
export async function countFileEffects(dir: string, suffix: string): Promise<number> {
  const encoded = encodeURIComponent(suffix);
  return (await readdir(dir)).filter((name) => name.endsWith(encoded)).length;
}

/** The page of flows {@link countFlowStatuses} reads: the part of `Client.list` it needs. */
export interface FlowLister {
  /** One page of flows, newest first (`Client.list`). */
  list(query: { limit: number; cursor?: string }): Promise<{
    /** The flows of the page. */
    readonly flows: readonly {
      /** The flow's status. */
      readonly status: string;
    }[];
    /** The cursor of the next page; undefined on the last one. */
    readonly nextCursor?: string | undefined;
  }>;
}

/** How many flows of the store are in each status (every page read), e.g. `{ completed: 10000 }`. */
export async function countFlowStatuses(client: FlowLister): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  let cursor: string | undefined;
  do {
    const page = await client.list({ limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const flow of page.flows) statuses[flow.status] = (statuses[flow.status] ?? 0) + 1;
    cursor = page.nextCursor;
  } while (cursor);
  return statuses;
}
