// The flow both worker processes run: five steps of 250 ms, each leaving a
// line in an effects file (a stand-in for an email sent or a card charged), so
// the example can count how often each step's side effect really happened.
import { appendFileSync } from 'node:fs';
import { flow } from '@ergon/executor';

export const STEPS = ['reserve', 'charge', 'pack', 'label', 'notify'] as const;

export interface Fulfilment {
  readonly orderId: string;
  /** Where each step appends `<orderId> <step> <worker>` when it runs. */
  readonly effectsFile: string;
}

export const fulfil = flow('fulfil', async (ctx, job: Fulfilment) => {
  for (const name of STEPS) {
    await ctx.run(name, async () => {
      await new Promise((resolve) => setTimeout(resolve, 250));
      appendFileSync(job.effectsFile, `${job.orderId} ${name} ${process.env.WORKER_NAME}\n`);
    });
  }
  return `${job.orderId} fulfilled`;
});
