// One worker process: claims flows of the types it knows from the shared
// store, under leases, until SIGTERM; then drains and releases its leases.
import { Worker } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { squareJob } from './flows.js';

const [path] = process.argv.slice(2);
if (!path) throw new Error('usage: worker.js <database file>');
const name = process.env.WORKER_NAME ?? `worker-${process.pid}`;

const store = await SqliteExecutionLog.open({ path });
const worker = new Worker({ store, flows: [squareJob], concurrency: 2, name }).start();
console.log(`${name} ready (pid ${process.pid})`);

process.once('SIGTERM', async () => {
  await worker.stop(); // stop claiming, finish in-flight runs, release leases
  await store.close();
  process.exit(0);
});
