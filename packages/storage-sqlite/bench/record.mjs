// Step overhead of the SQLite store (DESIGN §7): µs per `recordOperation`
// (fencing check + first-write-wins insert in one statement, awaited one after
// another as the engine does) against a raw better-sqlite3
// prepared INSERT of the same row into a plain table, both on WAL with
// synchronous NORMAL, in the same run.
//
// Run after a build:  node bench/record.mjs [records=10000] [rounds=5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteExecutionLog } from '../dist/index.js';

const N = Number(process.argv[2] ?? 10_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'ergon-bench-'));
const T0 = Date.UTC(2030, 0, 1);

const record = (flowId, position) => ({
  flowId,
  position,
  key: `step-${position}#0`,
  kind: 'step',
  status: 'completed',
  attempts: 1,
  result: `["r${position}"]`,
  startedAt: T0 + position,
  finishedAt: T0 + position + 1,
});

// The store, with one claimed flow per round so every round writes fresh positions.
const store = await SqliteExecutionLog.open({ path: join(dir, 'store.db') });
async function leaseFor(round) {
  const id = `bench-${round}`;
  await store.createFlow({
    id,
    type: 'bench',
    queue: 'default',
    input: '[]',
    priority: 0,
    runAt: T0,
    now: T0,
  });
  const [claimed] = await store.claim({
    workerId: 'bench',
    types: ['bench'],
    queues: ['default'],
    limit: 1,
    leaseMs: 3_600_000,
    now: T0,
    flowId: id,
  });
  return { flowId: id, token: claimed.token };
}

// The baseline: the same columns in a plain table, same pragmas, same disk.
const raw = new Database(join(dir, 'raw.db'));
raw.pragma('journal_mode = WAL');
raw.pragma('synchronous = NORMAL');
raw.exec(`create table history (flow_id text not null, position integer not null, key text not null,
  kind text not null, status text not null, attempts integer not null, result text, error text,
  wake_at integer, started_at integer not null, finished_at integer)`);
const insert = raw.prepare('insert into history values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
function rawInsert(r) {
  insert.run(
    r.flowId,
    r.position,
    r.key,
    r.kind,
    r.status,
    r.attempts,
    r.result ?? null,
    r.error ?? null,
    r.wakeAt ?? null,
    r.startedAt,
    r.finishedAt ?? null,
  );
}

// For reference, schema version 1's way by hand: a transaction written directly against better-sqlite3
// (BEGIN IMMEDIATE, fencing SELECT, first-write-wins upsert on a (flow_id, position) WITHOUT ROWID key).
raw.exec(`create table flows (id text primary key, fencing_token integer not null, status text not null,
  cancel_requested integer not null);
  create table keyed (flow_id text not null, position integer not null, key text not null, kind text not null,
  status text not null, attempts integer not null, result text, error text, wake_at integer,
  started_at integer not null, finished_at integer, primary key (flow_id, position)) without rowid`);
const fenceRow = raw.prepare('select fencing_token, status, cancel_requested from flows where id = ?');
const upsert = raw.prepare(`insert into keyed values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  on conflict (flow_id, position) do update set key = excluded.key, kind = excluded.kind,
  status = excluded.status, attempts = excluded.attempts, result = excluded.result, error = excluded.error,
  wake_at = excluded.wake_at, started_at = excluded.started_at, finished_at = excluded.finished_at
  where keyed.status = 'waiting'`);
const handWritten = raw.transaction((token, r) => {
  const flow = fenceRow.get(r.flowId);
  if (flow?.fencing_token !== token || flow.status !== 'running') throw new Error('lease lost');
  const { changes } = upsert.run(
    r.flowId,
    r.position,
    r.key,
    r.kind,
    r.status,
    r.attempts,
    r.result ?? null,
    r.error ?? null,
    r.wakeAt ?? null,
    r.startedAt,
    r.finishedAt ?? null,
  );
  return {
    record: Object.freeze({ ...r }),
    existed: changes === 0,
    cancelRequested: flow.cancel_requested !== 0,
  };
});

async function timeHandWritten(round) {
  const flowId = `bench-${round}`;
  raw.prepare("insert into flows values (?, 1, 'running', 0)").run(flowId);
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await handWritten.immediate(1, record(flowId, i));
  return Number(process.hrtime.bigint() - start) / 1000 / N;
}

async function timeStore(round) {
  const lease = await leaseFor(round);
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await store.recordOperation({ ...lease, record: record(lease.flowId, i) });
  return Number(process.hrtime.bigint() - start) / 1000 / N;
}

function timeRaw(round) {
  const flowId = `bench-${round}`;
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) rawInsert(record(flowId, i));
  return Number(process.hrtime.bigint() - start) / 1000 / N;
}

// Warm-up round (JIT, page cache), then alternate so drift hits every side alike.
await timeStore('warm');
timeRaw('warm');
await timeHandWritten('warm');
const storeUs = [];
const rawUs = [];
const handUs = [];
for (let round = 0; round < ROUNDS; round++) {
  rawUs.push(timeRaw(round));
  storeUs.push(await timeStore(round));
  handUs.push(await timeHandWritten(round));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = median(storeUs);
const r = median(rawUs);
const h = median(handUs);

console.log(
  `node ${process.version}, ${N} sequential records x ${ROUNDS} rounds (median), WAL + synchronous NORMAL`,
);
console.log(`raw better-sqlite3 INSERT, plain table          ${r.toFixed(2)} µs/record`);
console.log(`SqliteExecutionLog.recordOperation              ${s.toFixed(2)} µs/record`);
console.log(
  `schema v1's transaction, by hand               ${h.toFixed(2)} µs/record (${(h / r).toFixed(2)}x raw)`,
);
console.log(`ratio store / raw INSERT                        ${(s / r).toFixed(2)}x (target ≤ 2x)`);

await store.close();
raw.close();
rmSync(dir, { recursive: true, force: true });
