// Durable timers. `ctx.sleep` records its wake-up time once and suspends the
// flow: no worker holds it, no timer lives in memory. Here every worker stops
// and the store is closed while the flow sleeps (as if the whole system were
// restarted); a new worker on the reopened store wakes it when it is due,
// never early and never twice, and the steps before the sleep do not run again.
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, flow, Worker } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';

const runs: string[] = []; // what actually ran in this process, step by step

export const trialReminder = flow('trial-reminder', async (ctx, user: string) => {
  const started = await ctx.now(); // recorded: a replay sees the same time
  await ctx.run('send-welcome', () => runs.push(`welcome ${user}`));
  await ctx.sleep('2s'); // in real life: ctx.sleep('14d')
  const woke = await ctx.now();
  await ctx.run('send-reminder', () => runs.push(`reminder ${user}`));
  return { sleptMs: woke.getTime() - started.getTime() };
});

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const path = fileURLToPath(new URL('flows.db', dir));

// Phase 1: a worker starts the flow; it sends the welcome and goes to sleep.
let store = await SqliteExecutionLog.open({ path });
const first = new Worker({ store, flows: [trialReminder], name: 'first' }).start();
await new Client({ store }).schedule(trialReminder, 'ana', { flowId: 'trial-ana' });
let info = await new Client({ store }).get('trial-ana');
while (info.status !== 'suspended') {
  await new Promise((resolve) => setTimeout(resolve, 20));
  info = await new Client({ store }).get('trial-ana');
}
const timer = info.waits.find((w) => w.kind === 'timer');
const dueAt = timer?.kind === 'timer' ? timer.at : undefined;
console.log(`trial-ana is ${info.status}; its timer is due in ${dueAt ? dueAt - Date.now() : '?'} ms`);
await first.stop();
await store.close();
console.log('every worker stopped and the store closed while the flow sleeps');

// Phase 2: later, a new worker on the reopened store. Nothing is rescheduled:
// the timer is in the store.
await new Promise((resolve) => setTimeout(resolve, 500));
store = await SqliteExecutionLog.open({ path });
const second = new Worker({ store, flows: [trialReminder], name: 'second' }).start();
const client = new Client({ store });
const { sleptMs } = await client.result<{ sleptMs: number }>('trial-ana');
const woke = Date.now();
console.log(
  `trial-ana woke after ${sleptMs} ms of a 2000 ms sleep (never early: ${sleptMs >= 2000 ? 'yes' : 'no'})`,
);
console.log(`timer lateness: ${dueAt ? Math.max(0, woke - dueAt) : '?'} ms`);
console.log(`steps that ran, across both workers: ${runs.join(', ')}`);

// sleepUntil takes a date; a date in the past does not suspend at all.
const deadline = flow('deadline', async (ctx, at: number) => {
  await ctx.sleepUntil(at);
  return (await ctx.now()).getTime() >= at;
});
const handle = await new Client({ store }).schedule(deadline, Date.now() + 300, { flowId: 'deadline-1' });
const worker3 = new Worker({ store, flows: [deadline] }).start();
console.log(`deadline-1 woke at or after its date: ${await handle.result()}`);

await worker3.stop();
await second.stop();
await store.close();
