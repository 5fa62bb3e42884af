// One worker process. It registers in the store and heartbeats every 500 ms;
// once it stops heartbeating for 2 s (the default `liveness.lapse`), the other
// workers declare it dead and its flows' leases end at once.
import { Worker } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { fulfil } from './flows.js';

const [path] = process.argv.slice(2);
if (!path) throw new Error('usage: worker.js <database file>');
const name = process.env.WORKER_NAME ?? `worker-${process.pid}`;
const store = await SqliteExecutionLog.open({ path });
const worker = new Worker({ store, flows: [fulfil], concurrency: 2, name }).start();
console.log(`${name} ready`);
process.once('SIGTERM', async () => {
  await worker.stop();
  await store.close();
  process.exit(0);
});
