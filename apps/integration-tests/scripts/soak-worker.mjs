// A worker process of the soak (soak.mjs). Runs the simulation's script flows
// (`sim-flow`) on the soak's private Redis with real time and real heartbeats,
// and appends to its own journal, one JSON line each:
//   {"k":"start","f":flowId,"s":stepKey,"a":attempt}   a step or DAG node body started (attempt 0: a node)
//   {"k":"call","n":seq,"m":method,"i":sentAt,"o":answeredAt,...}   a state-changing store call and its answer
//   {"k":"send","n":seq,"m":method,"i":sentAt,"q":request}   a call that ends a lease, when sent
// Times are Date.now(): the system clock every process of the machine reads alike (not
// performance.timeOrigin + now(), whose origin is off by milliseconds from one process to another). The soak SIGKILLs, SIGSTOPs and
// restarts these processes and kills their Redis connections.
import { appendFileSync } from 'node:fs';
import { createConsoleLogger, systemClock } from '@ergon/core';
import { flow, Worker } from '@ergon/executor';
import { Graph } from '@ergon/graph';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { scriptFlow } from '@ergon/testing/simulation';
import { digest } from './soak-check.mjs';

const { REDIS_URL, REDIS_PREFIX, WORKER_ID, CONCURRENCY, LEASE_MS, JOURNAL, QUEUE } = process.env;
const now = () => Date.now();
const write = (entry) => appendFileSync(JOURNAL, `${JSON.stringify(entry)}\n`);

/** The calls the soak's lease and history checks read, and what of each they need. */
const TRACED = new Set([
  'claim',
  'renewLease',
  'releaseLease',
  'recordOperation',
  'consumeSignal',
  'suspend',
  'finishFlow',
  'createFlow',
  'heartbeatWorker',
  'removeWorker',
]);

const record = (r) => (r ? { ...r, result: digest(r.result), error: digest(r.error) } : r);

function request(method, req) {
  if (method === 'claim') return { workerId: req.workerId, now: req.now, leaseMs: req.leaseMs };
  if (method === 'createFlow') return { id: req.id, parentId: req.parentId };
  if (method === 'heartbeatWorker') return { now: req.now, worker: { id: req.worker.id } };
  if (method === 'removeWorker') return { workerId: req.workerId, expireLeases: req.expireLeases };
  const out = { flowId: req.flowId, token: req.token };
  if (req.record) out.record = record(req.record);
  if (method === 'renewLease') Object.assign(out, { now: req.now, leaseMs: req.leaseMs });
  if (method === 'suspend') out.waits = req.waits.length;
  if (method === 'finishFlow') out.status = req.status;
  return out;
}

function answer(method, value) {
  if (method === 'claim')
    return value.map((c) => ({
      token: c.token,
      flow: { id: c.flow.id, leaseExpiresAt: c.flow.leaseExpiresAt },
    }));
  if (method === 'createFlow') return { created: value.created, flow: { id: value.flow.id } };
  if (method === 'recordOperation' || method === 'consumeSignal')
    return value && { ...value, record: record(value.record) };
  return value;
}

const store = await RedisExecutionLog.open({
  url: REDIS_URL,
  prefix: REDIS_PREFIX,
  logger: createConsoleLogger({ pid: process.pid, role: 'store' }, 'error'),
});
/**
 * Calls with which a holder ends its lease, journaled also when sent: a SIGKILL between a
 * call's effect and its answer's line would otherwise hide that the lease may have ended.
 */
const ENDS = new Set(['suspend', 'finishFlow', 'releaseLease']);
let sequence = 0;

// Journal the store calls without touching the store's code: shadow its methods on this instance.
for (const method of TRACED) {
  const call = store[method].bind(store);
  store[method] = async (req) => {
    const sent = now();
    const n = ++sequence;
    if (ENDS.has(method)) write({ k: 'send', c: WORKER_ID, n, m: method, i: sent, q: request(method, req) });
    try {
      const value = await call(req);
      write({
        k: 'call',
        c: WORKER_ID,
        n,
        m: method,
        i: sent,
        o: now(),
        q: request(method, req),
        v: answer(method, value),
      });
      return value;
    } catch (error) {
      write({
        k: 'call',
        c: WORKER_ID,
        n,
        m: method,
        i: sent,
        o: now(),
        q: request(method, req),
        e: error?.code ?? String(error),
      });
      throw error;
    }
  };
}

// Batches of writes (the runtime wrapper coalesces records, suspensions and finishes made while
// others are in flight): journaled write by write, as the single calls they stand for.
const BATCH_METHODS = { record: 'recordOperation', suspend: 'suspend', finish: 'finishFlow' };
if (store.applyWrites) {
  const apply = store.applyWrites.bind(store);
  store.applyWrites = async (writes) => {
    const sent = now();
    const calls = writes.map((w) => ({
      n: ++sequence,
      m: BATCH_METHODS[w.op],
      q: request(BATCH_METHODS[w.op], w.request),
    }));
    for (const { n, m, q } of calls) if (ENDS.has(m)) write({ k: 'send', c: WORKER_ID, n, m, i: sent, q });
    let outcomes;
    try {
      outcomes = await apply(writes);
    } catch (error) {
      const o = now();
      for (const { n, m, q } of calls)
        write({ k: 'call', c: WORKER_ID, n, m, i: sent, o, q, e: error?.code ?? String(error) });
      throw error;
    }
    const o = now();
    calls.forEach(({ n, m, q }, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) write({ k: 'call', c: WORKER_ID, n, m, i: sent, o, q, v: answer(m, outcome.value) });
      else
        write({
          k: 'call',
          c: WORKER_ID,
          n,
          m,
          i: sent,
          o,
          q,
          e: outcome?.error?.code ?? String(outcome?.error),
        });
    });
    return outcomes;
  };
}

// A flow a create handed to this worker (hand-off: the store claimed it for this worker while
// it was parked) is a claim this process did not send: journaled as one, answered on arrival.
store.subscribe((event) => {
  if (event.type !== 'handed' || event.workerId !== WORKER_ID || !event.claimed) return;
  const at = now();
  write({
    k: 'call',
    c: WORKER_ID,
    n: ++sequence,
    m: 'claim',
    i: at,
    o: at,
    q: { workerId: WORKER_ID },
    v: answer('claim', [event.claimed]),
  });
});

const definition = scriptFlow(
  { flow, Graph },
  { clock: systemClock, queue: QUEUE, onStepStart: (f, s, a) => write({ k: 'start', f, s, a }) },
);
const worker = new Worker({
  store,
  flows: [definition],
  id: WORKER_ID,
  queues: [QUEUE],
  concurrency: Number(CONCURRENCY),
  lease: Number(LEASE_MS),
  durableBackoff: 100,
  logger: createConsoleLogger({ pid: process.pid }, 'error'),
});
worker.start();
process.send?.({ ready: process.pid });
process.on('disconnect', () => process.exit(1));
process.on('SIGTERM', async () => {
  await worker.stop({ timeout: '5s' });
  await store.close();
  process.exit(0);
});
