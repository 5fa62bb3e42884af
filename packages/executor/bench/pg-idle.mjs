// The PostgreSQL store's idle path, piece by piece: after an idle gap the parent schedules a one-step
// flow while a Worker waits in a child process (as apps/bench's latency-idle-postgres does), and
// both report wall times: the create's reply in the parent; in the child, the NOTIFY as a raw
// LISTEN connection hears it, the store event as a subscriber hears it, and the step's start.
// Beside it, the floor on this server: one durable commit, and one durable commit that notifies
// a listener in the child (raw pg, autocommit).
//   node bench/pg-idle.mjs [--samples 200] [--gap 10]
import { fork } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Client, flow, Worker } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '200' },
    gap: { type: 'string', default: '10' },
    role: { type: 'string', default: 'main' },
    schema: { type: 'string' },
  },
});
const PG_URL = process.env.URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const { PostgresExecutionLog } = await import('@ergon/storage-postgres');
const pg = createRequire(import.meta.resolve('@ergon/storage-postgres'))('pg');
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const channelOf = (schema) => `ergon_${createHash('sha1').update(schema).digest('hex').slice(0, 24)}`;
const probe = flow('idle-probe', async (ctx, id) =>
  ctx.run('start', () => process.send?.({ t: 'step', id, at: now() })),
);

if (args.role === 'worker') {
  const schema = args.schema;
  const store = await PostgresExecutionLog.open({ url: PG_URL, schema });
  const raw = new pg.Client({ connectionString: PG_URL });
  await raw.connect();
  raw.on('notification', (m) => {
    let id;
    try {
      const events = JSON.parse(m.payload);
      const list = Array.isArray(events[0]) ? events : [events];
      id = list.map((e) => e[1]).join(',');
    } catch {}
    process.send({ t: 'notify', channel: m.channel, id, at: now() });
  });
  await raw.query(`LISTEN "${channelOf(schema)}"`);
  await raw.query(`LISTEN "raw_${schema}"`);
  const worker = new Worker({ store, flows: [probe], concurrency: 50 });
  worker.start();
  store.subscribe((e) => {
    if (e.type === 'handed' || e.type === 'ready')
      process.send({ t: 'event', type: e.type, id: e.flowId, at: now() });
  });
  process.on('message', async (m) => {
    if (m === 'stop') {
      await worker.stop();
      await store.close();
      await raw.end();
      process.exit(0);
    }
  });
  process.send({ t: 'ready' });
} else {
  const schema = `ergon_idle_${randomUUID().slice(0, 8)}`;
  const store = await PostgresExecutionLog.open({ url: PG_URL, schema });
  const child = fork(new globalThis.URL(import.meta.url).pathname, ['--role', 'worker', '--schema', schema]);
  const waiters = [];
  child.on('message', (m) => {
    for (const w of [...waiters])
      if (w.match(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
  });
  const waitFor = (match) => new Promise((resolve) => waiters.push({ match, resolve }));
  await waitFor((m) => m.t === 'ready');
  await sleep(300);
  const client = new Client({ store });
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create table "${schema}".raw (id text primary key)`);
  const N = Number(args.samples);
  const gap = Number(args.gap);
  const cols = { reply: [], notify: [], event: [], step: [], commit: [], notifyRaw: [] };
  for (let i = 0; i < N + 5; i++) {
    await sleep(gap + Math.random() * gap);
    const id = `p-${randomUUID()}`;
    const notified = waitFor((m) => m.t === 'notify' && m.id?.includes(id));
    const evented = waitFor((m) => m.t === 'event' && m.id === id);
    const stepped = waitFor((m) => m.t === 'step');
    const t0 = now();
    await client.schedule(probe, i, { flowId: id });
    const t1 = now();
    const [n, e, s] = await Promise.all([notified, evented, stepped]);
    // The floor: one durable commit, then one that notifies the child.
    await sleep(gap / 2);
    const c0 = now();
    await admin.query({ text: `insert into "${schema}".raw values ($1)`, values: [`c-${id}`] });
    const c1 = now();
    await sleep(gap / 2);
    const rawNotified = waitFor((m) => m.t === 'notify' && m.channel === `raw_${schema}`);
    const r0 = now();
    await admin.query({
      text: `with i as (insert into "${schema}".raw values ($1) returning id) select pg_notify($2, json_build_array('x', id)::text) from i`,
      values: [`n-${id}`, `raw_${schema}`],
    });
    const r = await rawNotified;
    if (i < 5) continue;
    cols.reply.push(t1 - t0);
    cols.notify.push(n.at - t0);
    cols.event.push(e.at - t0);
    cols.step.push(s.at - t0);
    cols.commit.push(c1 - c0);
    cols.notifyRaw.push(r.at - r0);
  }
  const pct = (a, q) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.ceil(q * a.length) - 1)];
  const line = (name, a) =>
    console.log(
      `${name.padEnd(44)} p50 ${pct(a, 0.5).toFixed(3)}  p90 ${pct(a, 0.9).toFixed(3)}  p99 ${pct(a, 0.99).toFixed(3)} ms`,
    );
  console.log(`${N} samples, gap ${gap}-${2 * gap} ms`);
  line('schedule → create reply (parent)', cols.reply);
  line('schedule → NOTIFY heard (raw LISTEN, child)', cols.notify);
  line('schedule → store event (child)', cols.event);
  line('schedule → step start (child)', cols.step);
  line('floor: one durable INSERT (reply)', cols.commit);
  line('floor: durable INSERT + pg_notify → heard', cols.notifyRaw);
  child.send('stop');
  await new Promise((resolve) => child.on('exit', resolve));
  await store.close();
  await admin.query(`drop schema "${schema}" cascade`);
  await admin.end();
}
