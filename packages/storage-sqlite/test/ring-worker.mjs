// A child process of multi-process.test.ts: opens the store (built package), creates one
// flow (a commit with a `ready` event, so it rings the doorbell unless `watch` is off),
// reports it and exits. argv: <database path> <flow id> <watch: on|off>.
import { SqliteExecutionLog } from '../dist/index.js';

const [path, flowId, watch] = process.argv.slice(2);
const store = await SqliteExecutionLog.open({ path, watch: watch !== 'off' });
const now = Date.now();
await store.createFlow({
  id: flowId,
  type: 'work',
  queue: 'rung',
  input: '[]',
  priority: 0,
  runAt: now,
  now,
});
await store.close();
process.send({ type: 'created' }, () => process.disconnect());
