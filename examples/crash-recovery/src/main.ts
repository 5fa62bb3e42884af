// Crash recovery. Two worker processes share the store and split four
// five-step flows. Midway, one worker is killed with SIGKILL: no shutdown, no
// cleanup, its leases still held. The other worker notices the lapsed
// heartbeat, takes the dead worker's flows over, and resumes each after its
// last finished step: a finished step never runs again; only the steps that
// were running at the moment of the kill run a second time.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { fulfil, STEPS } from './flows.js';

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const path = fileURLToPath(new URL('flows.db', dir));
const effectsFile = fileURLToPath(new URL('effects.log', dir));
const store = await SqliteExecutionLog.open({ path });
const client = new Client({ store });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startWorker(name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./worker.js', import.meta.url)), path], {
    env: { ...process.env, WORKER_NAME: name },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', () => resolve(child));
  });
}

const [doomed, survivor] = await Promise.all([startWorker('worker-a'), startWorker('worker-b')]);
if (!doomed || !survivor) throw new Error('workers did not start');
while ((await client.workers()).length < 2) await pause(20);

const orders = ['order-1', 'order-2', 'order-3', 'order-4'];
const handles = await Promise.all(
  orders.map((orderId) => client.schedule(fulfil, { orderId, effectsFile }, { flowId: orderId })),
);

// Wait until worker-a holds flows and has finished a few of their steps.
const finishedSteps = async (flowId: string) =>
  (await client.get(flowId)).history.filter((h) => h.status === 'completed').map((h) => h.key);
let held: string[] = [];
for (;;) {
  const views = await client.workers();
  held = views.find((w) => w.name === 'worker-a')?.flows.map((f) => f.flowId) ?? [];
  const done = await Promise.all(held.map(finishedSteps));
  if (held.length > 0 && done.every((steps) => steps.length >= 2)) break;
  await pause(20);
}
const before = new Map<string, string[]>();
for (const flowId of orders) before.set(flowId, await finishedSteps(flowId));

doomed.kill('SIGKILL');
const killedAt = Date.now();
console.log(`SIGKILLed worker-a holding ${held.sort().join(', ')}`);
for (const flowId of held)
  console.log(`  ${flowId}: ${before.get(flowId)?.length} of ${STEPS.length} steps finished at the kill`);

const results = await Promise.all(handles.map((h) => h.result()));
console.log(
  `all ${results.length} orders fulfilled ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`,
);

// Who ran what: the effects file has one line per step execution.
const lines = existsSync(effectsFile) ? readFileSync(effectsFile, 'utf8').trim().split('\n') : [];
const count = (flowId: string, step: string) =>
  lines.filter((l) => l.startsWith(`${flowId} ${step} `)).length;
for (const flowId of held) {
  const resumedBy = lines
    .filter((l) => l.startsWith(`${flowId} `) && l.endsWith(' worker-b'))
    .map((l) => l.split(' ')[1]);
  console.log(`  ${flowId} resumed by worker-b at step "${resumedBy[0]}"`);
}
const rerunFinished = orders.flatMap((flowId) =>
  (before.get(flowId) ?? [])
    .map((key) => key.replace(/#\d+$/, ''))
    .filter((step) => count(flowId, step) !== 1),
);
const rerunInFlight = orders.flatMap((flowId) => STEPS.filter((step) => count(flowId, step) > 1));
console.log(`finished steps that ran again: ${rerunFinished.length}`);
console.log(`steps that were running at the kill and ran again: ${rerunInFlight.length}`);
console.log(
  `every step's effect happened: ${orders.every((id) => STEPS.every((s) => count(id, s) >= 1)) ? 'yes' : 'no'}`,
);

await new Promise<void>((resolve) => survivor.once('exit', () => resolve()).kill('SIGTERM'));
await store.close();
