// A child process of multi-process.test.ts: claims, records and finishes flows of
// type `work` on a shared file until none is left, then reports what it did.
// argv: <database path> <worker id>. Talks to the parent over IPC:
// sends {type:'ready'}, waits for any message (go), sends {type:'done', claimed, errors}.
import { SqliteExecutionLog } from '../dist/index.js';

const [path, workerId] = process.argv.slice(2);
const T0 = Date.UTC(2030, 0, 1);
const STEPS = 3;

const store = await SqliteExecutionLog.open({ path });
const go = new Promise((resolve) => process.once('message', resolve));
process.send({ type: 'ready' });
await go;

const claimed = [];
const errors = [];
const report = (error) => errors.push({ code: error?.code, message: String(error?.message ?? error) });

while (errors.length < 50) {
  let batch;
  try {
    batch = await store.claim({
      workerId,
      types: ['work'],
      queues: ['default'],
      limit: 2,
      leaseMs: 3_600_000,
      now: T0,
    });
  } catch (error) {
    report(error);
    continue;
  }
  if (batch.length === 0) break;
  for (const { flow, token } of batch) {
    claimed.push(flow.id);
    const lease = { flowId: flow.id, token };
    try {
      for (let position = 0; position < STEPS; position++) {
        await store.recordOperation({
          ...lease,
          record: {
            flowId: flow.id,
            position,
            key: `step-${position}#0`,
            kind: 'step',
            status: 'completed',
            attempts: 1,
            result: JSON.stringify([workerId, position]),
            startedAt: T0,
            finishedAt: T0 + 1,
          },
        });
      }
      await store.finishFlow({
        ...lease,
        status: 'completed',
        result: JSON.stringify([workerId]),
        now: T0 + 2,
      });
    } catch (error) {
      report(error);
    }
  }
}

await store.close();
process.send({ type: 'done', claimed, errors }, () => process.disconnect());
