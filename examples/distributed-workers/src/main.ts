// Distributed workers: three worker processes share one store (a SQLite file
// here; Redis or PostgreSQL across machines) and split the flows between them.
// Each flow is claimed by exactly one worker at a time, under a lease. This
// process only schedules flows and waits for their results: it runs none.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { type JobResult, squareJob } from './flows.js';

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const path = fileURLToPath(new URL('flows.db', dir));
const store = await SqliteExecutionLog.open({ path }); // creates the schema before the workers open it

function startWorker(name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./worker.js', import.meta.url)), path], {
    env: { ...process.env, WORKER_NAME: name },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', () => resolve(child)); // "<name> ready"
  });
}

const workers = await Promise.all(['worker-a', 'worker-b', 'worker-c'].map(startWorker));
console.log(`started ${workers.length} worker processes: ${workers.map((w) => w.pid).join(', ')}`);

const client = new Client({ store });
let live = await client.workers();
while (live.length < workers.length) {
  await new Promise((resolve) => setTimeout(resolve, 20)); // each registers as it starts
  live = await client.workers();
}
console.log(
  `registered workers: ${live
    .map((w) => w.name ?? w.id)
    .sort()
    .join(', ')}`,
);

const started = Date.now();
const handles = await Promise.all(
  Array.from({ length: 12 }, (_, n) => client.schedule(squareJob, { n }, { flowId: `job-${n}` })),
);
const results: JobResult[] = await Promise.all(handles.map((h) => h.result()));
console.log(`12 flows finished in ${Date.now() - started} ms (12 × 100 ms of work over 3 workers × 2 slots)`);

const perWorker = new Map<string, number>();
for (const r of results) perWorker.set(r.worker, (perWorker.get(r.worker) ?? 0) + 1);
for (const [name, count] of [...perWorker].sort()) console.log(`  ${name}: ${count} flows`);
console.log(`squares correct: ${results.every((r) => r.square === r.n * r.n) ? 'yes' : 'no'}`);

// A flow is claimed again only if its worker stalled past its lease or its
// registry heartbeat (a machine overloaded for seconds); its recorded steps
// are then replayed, not run again.
const runs = await Promise.all(results.map((r) => client.get(`job-${r.n}`).then((info) => info.runCount)));
const again = runs.filter((count) => count > 1).length;
console.log(again === 0 ? 'each flow ran once: yes' : `flows claimed again after a stalled worker: ${again}`);

await Promise.all(
  workers.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve()).kill('SIGTERM'))),
);
console.log('workers stopped');
await store.close();
