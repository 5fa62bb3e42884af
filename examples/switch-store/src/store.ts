// Which store to use is configuration, not code: `ERGON_STORE` holds a URL.
//   sqlite:<path>        the embedded default, one file (several processes on one machine)
//   redis://host:port    Redis, for workers on several machines
// Flows, workers and clients take any `ExecutionLog`; nothing else changes.
import type { ExecutionLog } from '@ergon/core';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';

export async function openStore(url: string): Promise<ExecutionLog & { close(): Promise<void> }> {
  if (url.startsWith('sqlite:')) return SqliteExecutionLog.open({ path: url.slice('sqlite:'.length) });
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    return RedisExecutionLog.open({ url, prefix: 'ergon-example-switch-store' });
  }
  throw new Error(`ERGON_STORE must start with sqlite: or redis://, not ${JSON.stringify(url)}`);
}
