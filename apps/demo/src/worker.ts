/**
 * A demo worker process: runs the `order-intake` consumer (each order a
 * durable flow on the shared SQLite file) until told to stop, or killed.
 * Every transaction's outcome is reported to the demo's main process.
 *
 * @module
 */
import { startTask } from '@ergon/tasks';
import { intakeStarted, orderIntake, store } from './tasks.js';

/** What a worker tells the main process. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'start'; readonly id: string }
  | {
      readonly type: 'outcome';
      readonly id: string | undefined;
      readonly status: string;
      readonly settlement: string;
      readonly error?: string;
    };

const send = (message: WorkerMessage) => process.send?.(message);
intakeStarted.addEventListener('start', (event) =>
  send({ type: 'start', id: (event as CustomEvent<string>).detail }),
);
const run = startTask(orderIntake, {
  shutdownTimeout: '5s',
  onOutcome: (o) =>
    send({
      type: 'outcome',
      id: o.transactionId,
      status: o.status,
      settlement: o.settlement,
      ...(o.error ? { error: `${o.error.name}: ${o.error.message}` } : {}),
    }),
});
send({ type: 'ready' });
const summary = await run.done;
await store.close();
if (summary.reason === 'failed') {
  console.error(`${process.env.ERGON_WORKER_ID}: the run failed: ${summary.error?.message}`);
  process.exit(1);
}
process.exit(0);
