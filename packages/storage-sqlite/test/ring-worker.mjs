// A child process of multi-process.test.ts: opens the store (built package), creates one
// flow (a commit with a `ready` event, so it rings the doorbell unless `watch` is off),
// reports it and exits. argv: <database path> <flow id> <watch: on|off> [count: that many flows,
// <flow id>-0 …, in one call: one commit with several events].
import { SqliteExecutionLog } from '../dist/index.js';

const [path, flowId, watch, count] = process.argv.slice(2);
const store = await SqliteExecutionLog.open({ path, watch: watch !== 'off' });
const now = Date.now();
const flow = (id, runAt) => ({ id, type: 'work', queue: 'rung', input: '[]', priority: 0, runAt, now });
if (count === undefined) await store.createFlow(flow(flowId, now));
else
  await store.createFlows(Array.from({ length: Number(count) }, (_, i) => flow(`${flowId}-${i}`, now + i)));
await store.close();
process.send({ type: 'created' }, () => process.disconnect());
