import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeExecutionLogConformance } from '@ergon/testing';
import Database from 'better-sqlite3';
import { SqliteExecutionLog } from './index.js';

const files = new WeakMap<SqliteExecutionLog, string>();

/** Runs `change` on a second connection to the store's file, as a tool outside Ergon would. */
function outside(store: SqliteExecutionLog, change: (db: Database.Database) => void): void {
  const db = new Database(store.path);
  try {
    change(db);
  } finally {
    db.close();
  }
}

describeExecutionLogConformance({
  name: 'SqliteExecutionLog',
  skip: [
    {
      capability: 'handOff',
      reason:
        'a wake-up here is a local notification and the claim a local transaction: no network round trip for a hand-off to save',
    },
  ],
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
  damage: {
    // A field of the wrong type: what a bad edit or a damaged page leaves behind.
    history: (store, flowId) =>
      outside(store, (db) =>
        db.prepare("update history set attempts = 'many' where flow_id = ?").run(flowId),
      ),
    waits: (store, flowId) =>
      outside(store, (db) => db.prepare("update flows set waits = '{not json' where id = ?").run(flowId)),
  },
});
