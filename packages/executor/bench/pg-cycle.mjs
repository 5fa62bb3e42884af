// The PostgreSQL store's claim → apply cycle without the executor: N one-step flows created, then L
// loops in this process, each claiming `limit` flows and applying a record and a finish for each
// (the writes a Worker sends for a one-step flow, captured from a real run first). Reports flows/s,
// ms per claim and per apply, the CPU of the store's server backends per flow (from /proc), and
// WAL bytes and records per flow (pg_stat_wal, server-wide: run it on a quiet server).
//   node bench/pg-cycle.mjs [--flows 10000] [--loops 2] [--limit 50] [--keep]
//   env: EXPLAIN=RATE (plans to the server log), SQL=… (run on the schema first), ATTRIBUTE=1 (CPU per call)
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { flow, Client, Worker } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    flows: { type: 'string', default: '10000' },
    loops: { type: 'string', default: '2' },
    limit: { type: 'string', default: '50' },
    keep: { type: 'boolean', default: false },
  },
});
const URL = process.env.URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const { PostgresExecutionLog } = await import('@ergon/storage-postgres');
const pg = createRequire(import.meta.resolve('@ergon/storage-postgres'))('pg');
const schema = `ergon_cycle_${randomUUID().slice(0, 8)}`;
const appName = `ergon-cycle-${process.pid}`;
// EXPLAIN=RATE: the store runs on a pool whose connections log the plans (auto_explain, ANALYZE and
// BUFFERS) of that share of their statements, nested ones included, to the server's log.
let ownPool;
if (process.env.EXPLAIN) {
  ownPool = new pg.Pool({ connectionString: URL, max: 10, application_name: appName });
  ownPool.on('connect', (c) =>
    c.query(`load 'auto_explain'; set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on;
      set auto_explain.log_buffers = on; set auto_explain.log_wal = on; set auto_explain.log_nested_statements = on;
      set auto_explain.sample_rate = ${Number(process.env.EXPLAIN)}`),
  );
}
const store = await PostgresExecutionLog.open(
  ownPool ? { pool: ownPool, schema } : { url: URL, schema, applicationName: appName },
);
const admin = new pg.Client({ connectionString: URL });
await admin.connect();
const f = flow('cycle', async (ctx, n) => ctx.run('a', () => n));

// One real flow through a Worker, its writes captured: the template of each flow's writes.
let template;
const apply = store.applyWrites.bind(store);
store.applyWrites = (writes) => {
  template ??= writes;
  return apply(writes);
};
const client = new Client({ store });
const worker = new Worker({ store, flows: [f], concurrency: 1 });
worker.start();
await client.schedule(f, 1).then((h) => h.result());
await worker.stop();
store.applyWrites = apply;

const N = Number(args.flows);
for (let i = 0; i < N; i += 500)
  await Promise.all(Array.from({ length: Math.min(500, N - i) }, (_, k) => client.schedule(f, i + k)));
// SQL=… : statements run on the schema before the timed part (a probe of another index set).
if (process.env.SQL) await admin.query(`set search_path = "${schema}"; ${process.env.SQL}`);
await admin.query('analyze');

const backendCpu = async () => {
  const { rows } = await admin.query('select pid from pg_stat_activity where application_name = $1', [
    appName,
  ]);
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return { ticks, pids: rows.length };
};
const wal = async () =>
  (
    await admin.query(
      'select wal_records::float8 r, wal_bytes::float8 b, wal_fpi::float8 fpi from pg_stat_wal',
    )
  ).rows[0];
const tableStats = async () =>
  (
    await admin.query(
      `select relname, n_tup_upd::int upd, n_tup_hot_upd::int hot from pg_stat_user_tables where schemaname = $1`,
      [schema],
    )
  ).rows;

const limit = Number(args.limit);
const times = { claim: [], apply: [] };
// ATTRIBUTE=1 (with --loops 1): the backends' CPU ticks around each call, summed per kind of call.
const ticks = { claim: 0, apply: 0 };
const timed = async (kind, call) => {
  const before = process.env.ATTRIBUTE ? (await backendCpu()).ticks : 0;
  const t = performance.now();
  const result = await call();
  times[kind].push(performance.now() - t);
  if (process.env.ATTRIBUTE) ticks[kind] += (await backendCpu()).ticks - before;
  return result;
};
let done = 0;
async function loop(id) {
  const workerId = `cycle-${id}`;
  for (;;) {
    const claimed = await timed('claim', () =>
      store.claim({
        workerId,
        types: ['cycle'],
        queues: ['default'],
        limit,
        leaseMs: 30000,
        now: Date.now(),
      }),
    );
    if (claimed.length === 0) return;
    const writes = [];
    const now = Date.now();
    for (const { flow: c, token } of claimed) {
      for (const w of template) {
        if (w.op === 'record')
          writes.push({
            op: 'record',
            request: {
              ...w.request,
              flowId: c.id,
              token,
              now,
              record: { ...w.request.record, flowId: c.id },
            },
          });
        else writes.push({ op: w.op, request: { ...w.request, flowId: c.id, token, now } });
      }
    }
    const outcomes = await timed('apply', () => store.applyWrites(writes));
    if (outcomes.some((o) => !o.ok))
      throw new Error(`refused: ${JSON.stringify(outcomes.find((o) => !o.ok))}`);
    done += claimed.length;
  }
}
const cpu0 = await backendCpu();
const wal0 = await wal();
const stats0 = await tableStats();
const t0 = performance.now();
const c0 = process.cpuUsage();
await Promise.all(Array.from({ length: Number(args.loops) }, (_, i) => loop(i)));
const ms = performance.now() - t0;
const c = process.cpuUsage(c0);
const cpu1 = await backendCpu();
const wal1 = await wal();
const stats1 = await tableStats();
const tick = 1e6 / 100; // µs per clock tick (CLK_TCK 100)
const avg = (a) => a.reduce((x, y) => x + y, 0) / a.length;
console.log(
  `${done} flows in ${ms.toFixed(0)} ms = ${Math.round((done / ms) * 1000)} flows/s; loops ${args.loops} × limit ${limit}; ` +
    `claim ${avg(times.claim).toFixed(2)} ms, apply ${avg(times.apply).toFixed(2)} ms (avg)`,
);
console.log(
  `  backends (${cpu1.pids}) CPU ${(((cpu1.ticks - cpu0.ticks) * tick) / done).toFixed(0)} µs/flow; this process ${((c.user + c.system) / done).toFixed(0)} µs/flow (system ${(c.system / done).toFixed(0)}); ` +
    `WAL ${((wal1.b - wal0.b) / done).toFixed(0)} B/flow, ${((wal1.r - wal0.r) / done).toFixed(1)} records/flow, fpi ${((wal1.fpi - wal0.fpi) / done).toFixed(2)}/flow`,
);
if (process.env.ATTRIBUTE)
  console.log(
    `  backend CPU around calls: claim ${((ticks.claim * tick) / done).toFixed(0)} µs/flow, apply ${((ticks.apply * tick) / done).toFixed(0)} µs/flow`,
  );
for (const s of stats1) {
  const b = stats0.find((x) => x.relname === s.relname) ?? { upd: 0, hot: 0 };
  if (s.upd - b.upd > 0) console.log(`  ${s.relname}: ${s.upd - b.upd} updates, ${s.hot - b.hot} HOT`);
}
await store.close();
await ownPool?.end();
if (!args.keep) await admin.query(`drop schema "${schema}" cascade`);
else console.log(`kept schema ${schema}`);
await admin.end();
