/**
 * A demo worker process: opens the SQLite store and runs the order flows until
 * told to stop (or killed).
 *
 * @module
 */
import { createConsoleLogger } from '@ergon/core';
import { Worker } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { demoFlows } from './flows.js';

const store = await SqliteExecutionLog.open({ path: process.env.ERGON_DEMO_DB ?? 'demo.db' });
const worker = new Worker({
  store,
  flows: demoFlows,
  id: process.env.ERGON_WORKER_ID,
  concurrency: 8,
  lease: '2s',
  logger: createConsoleLogger({ worker: process.env.ERGON_WORKER_ID }, 'error'),
}).start();
process.send?.({ type: 'ready' });
process.on('SIGTERM', async () => {
  await worker.stop({ timeout: '5s' });
  await store.close();
  process.exit(0);
});
