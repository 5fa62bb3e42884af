import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeExecutionLogConformance } from '@ergon/testing';
import { SqliteExecutionLog } from './index.js';

const files = new WeakMap<SqliteExecutionLog, string>();

describeExecutionLogConformance({
  name: 'SqliteExecutionLog',
  create: async () => {
    const path = join(tmpdir(), `ergon-conformance-${randomUUID()}.db`);
    const store = await SqliteExecutionLog.open({ path });
    files.set(store, path);
    return store;
  },
  teardown: async (store) => {
    await store.close();
    const path = files.get(store);
    if (path)
      for (const suffix of ['', '-wal', '-shm', '-ergon-wake']) rmSync(path + suffix, { force: true });
  },
});
