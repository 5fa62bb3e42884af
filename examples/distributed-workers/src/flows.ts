// The flow type every process shares: the worker processes register it to run
// it, and the scheduler uses it for typed scheduling and results.
import { flow } from '@ergon/executor';

export interface Job {
  readonly n: number;
}

export interface JobResult {
  readonly n: number;
  readonly square: number;
  readonly worker: string;
}

export const squareJob = flow('square-job', async (ctx, job: Job) => {
  // A step's result is recorded, so which worker ran it is part of history.
  const worker = await ctx.run('who-runs-me', () => process.env.WORKER_NAME ?? `pid-${process.pid}`);
  const square = await ctx.run('compute', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100)); // some I/O
    return job.n * job.n;
  });
  return { n: job.n, square, worker };
});
