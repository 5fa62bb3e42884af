// The soak (issue #16): thousands of 20-operation flows (steps with retries, timers,
// signals, children, DAGs, cancels) on four worker processes sharing a private
// redis-server, while workers are SIGKILLed and restarted, SIGSTOPped past their
// lease and the liveness lapse then SIGCONTinued, and every Redis connection is
// killed (CLIENT KILL TYPE normal). At the end every invariant of the simulation is
// checked over the store and the workers' journals of store calls.
//
//   node scripts/soak.mjs [--minutes 30] [--flows 10000] [--workers 4] [--concurrency 8] [--lease-ms 2000] [--seed 1]
//
// Prints flows/s, step re-runs per kill or stop, and every invariant broken (exit code 1).
// Redis rather than SQLite: connection kills are one of the faults, and a private
// server never disturbs the shared one.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createConsoleLogger, ErrorCode, runtimeStore } from '@ergon/core';
import { Client } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { PrivateRedisServer } from '@ergon/testing/redis-server';
import {
  DEFAULT_SHAPE,
  expectedPositions,
  generateScript,
  Prng,
  SIM_FLOW_TYPE,
} from '@ergon/testing/simulation';
import { Redis } from 'ioredis';
import { checkSoak, readJournals } from './soak-check.mjs';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    flows: { type: 'string', default: '10000' },
    workers: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '8' },
    'lease-ms': { type: 'string', default: '2000' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
});
const DURATION_MS = Number(args.minutes) * 60_000;
const FLOWS = Number(args.flows);
const WORKERS = Number(args.workers);
const LEASE_MS = Number(args['lease-ms']);
const QUEUE = 'soak';
const WORKER = fileURLToPath(new URL('./soak-worker.mjs', import.meta.url));
/** 20 operations a flow, in real time: sleeps up to 1 s, timeouts up to 1.5 s, slowness well inside the lease. */
const SHAPE = { ...DEFAULT_SHAPE, ops: [20, 20], leaseMs: LEASE_MS, durableBackoffMs: 100, timeScale: 0.05 };

const prng = new Prng(Number(args.seed));
const server = await PrivateRedisServer.start();
const dir = mkdtempSync(join(tmpdir(), 'ergon-soak-'));
const store = await RedisExecutionLog.open({
  url: server.url,
  prefix: 'soak',
  logger: createConsoleLogger({}, 'error'),
});
const client = new Client({ store });
const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
admin.on('error', () => {});
const counts = { kills: 0, stops: 0, connectionKills: 0, clientRetries: 0 };

// ---------------------------------------------------------------------------
// Worker processes: one journal per incarnation.

const journals = [];
const slots = [];
function spawnWorker(slot, incarnation) {
  const id = `w${slot}.${incarnation}`;
  const journal = join(dir, `${id}.jsonl`);
  journals.push(journal);
  const child = fork(WORKER, [], {
    env: {
      ...process.env,
      REDIS_URL: server.url,
      REDIS_PREFIX: 'soak',
      QUEUE,
      WORKER_ID: id,
      CONCURRENCY: args.concurrency,
      LEASE_MS: String(LEASE_MS),
      JOURNAL: journal,
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  slots[slot] = { child, incarnation };
}
const exited = (child) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', r));
for (let slot = 0; slot < WORKERS; slot++) spawnWorker(slot, 0);

// ---------------------------------------------------------------------------
// The application: schedules paced over the first half of the run, signals and cancels after them.

const flows = new Map();
const events = [];
for (let i = 0; i < FLOWS; i++) {
  const flowId = `soak-${i}`;
  const script = generateScript(prng.fork(flowId), SHAPE);
  flows.set(flowId, script);
  const at = Math.floor((i / FLOWS) * DURATION_MS * 0.5);
  events.push({ at, kind: 'schedule', flowId, script });
  const names = expectedPositions(script)
    .filter((p) => p.kind === 'signal')
    .map((p) => p.source.name);
  for (const name of names) events.push({ at: at + prng.int(0, 1500), kind: 'signal', flowId, name });
  if (prng.chance(0.02)) events.push({ at: at + prng.int(0, 3000), kind: 'cancel', flowId });
}
events.sort((a, b) => a.at - b.at);
const sends = [];
const cancelled = new Set();
const started = Date.now();

/** One application call, retried while the store cannot answer (a killed connection). */
async function perform(event) {
  for (let attempt = 1; ; attempt++) {
    const payload = `${event.flowId}|${event.name}|${sends.length}`;
    try {
      if (event.kind === 'schedule')
        await client.schedule(SIM_FLOW_TYPE, event.script, { flowId: event.flowId, queue: QUEUE });
      else if (event.kind === 'cancel') {
        cancelled.add(event.flowId);
        await client.cancel(event.flowId);
      } else {
        const send = { flowId: event.flowId, name: event.name, payload, acknowledged: false, at: Date.now() };
        sends.push(send);
        try {
          await client.signal(event.flowId, event.name, payload);
          send.acknowledged = true;
        } catch (error) {
          send.error = error?.code ?? String(error);
          throw error;
        } finally {
          send.answeredAt = Date.now();
        }
      }
      return;
    } catch (error) {
      if (error?.code === ErrorCode.FLOW_FINISHED) return;
      if (attempt >= 50) throw error;
      counts.clientRetries++;
      await delay(50 * Math.min(attempt, 10));
    }
  }
}

const application = (async () => {
  const inFlight = new Set();
  for (const event of events) {
    const wait = started + event.at - Date.now();
    if (wait > 0) await delay(wait);
    const p = perform(event).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 16) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
})();

// ---------------------------------------------------------------------------
// Faults, until 70% of the run.

const faults = (async () => {
  while (Date.now() - started < DURATION_MS * 0.7) {
    await delay(prng.int(2000, 5000));
    const slot = prng.int(0, WORKERS - 1);
    const { child, incarnation } = slots[slot];
    const roll = prng.next();
    if (roll < 0.4) {
      child.kill('SIGKILL');
      await exited(child);
      spawnWorker(slot, incarnation + 1);
      counts.kills++;
    } else if (roll < 0.75) {
      // Past the lease and the registry's lapse: others take its flows over while it sleeps.
      child.kill('SIGSTOP');
      await delay(Math.max(LEASE_MS, 2000) + prng.int(500, 1500));
      child.kill('SIGCONT');
      counts.stops++;
    } else {
      await admin.client('KILL', 'TYPE', 'normal').catch(() => {});
      counts.connectionKills++;
    }
  }
})();

// ---------------------------------------------------------------------------
// The end: everything finished (or the deadline), workers stopped, every invariant checked.

const unfinished = async () => {
  try {
    const page = await runtimeStore(store).listFlows({
      status: ['pending', 'running', 'suspended'],
      queue: QUEUE,
      limit: 1,
    });
    return page.flows.length;
  } catch {
    return 1;
  }
};
await Promise.all([application, faults]);
const deadline = started + DURATION_MS + Math.min(30_000, DURATION_MS * 0.1);
let finishedAt = Date.now();
while ((await unfinished()) > 0 && Date.now() < deadline) {
  await delay(250);
  finishedAt = Date.now();
}
for (const { child } of slots) child.kill('SIGTERM');
await Promise.race([Promise.all(slots.map(({ child }) => exited(child))), delay(10_000)]);
for (const { child } of slots) child.kill('SIGKILL');

const { entries, starts } = readJournals(journals);
const { violations, inProgress } = await checkSoak({
  store,
  queue: QUEUE,
  flows,
  sends,
  cancelled,
  entries,
  now: finishedAt,
});
const byStatus = {};
for (const id of flows.keys()) {
  const flow = await store.getFlow(id);
  byStatus[flow?.status ?? 'missing'] = (byStatus[flow?.status ?? 'missing'] ?? 0) + 1;
}
// Re-runs: the same attempt of a step started again (DAG nodes are not told their attempt: left out).
const finished = (byStatus.completed ?? 0) + (byStatus.failed ?? 0) + (byStatus.cancelled ?? 0);
let stepStarts = 0;
let reruns = 0;
for (const [key, n] of starts) {
  stepStarts += n;
  if (!key.endsWith(' 0')) reruns += n - 1;
}
const seconds = (finishedAt - started) / 1000;
const summary = {
  minutes: Number(args.minutes),
  flows: FLOWS,
  opsPerFlow: 20,
  workers: WORKERS,
  seconds: Number(seconds.toFixed(1)),
  flowsPerSecond: Number((finished / seconds).toFixed(1)),
  statuses: byStatus,
  ...counts,
  stepStarts,
  stepReruns: reruns,
  rerunsPerKill: Number((reruns / Math.max(1, counts.kills + counts.stops)).toFixed(1)),
  storeCallsJournaled: entries.length,
  inProgressAtEnd: inProgress,
  violations: violations.length,
};
console.log(
  `[soak] ${FLOWS} flows × 20 operations on ${WORKERS} worker processes in ${summary.seconds} s ` +
    `(${summary.flowsPerSecond} finished flows/s): ${JSON.stringify(byStatus)}; ${counts.kills} SIGKILLs, ${counts.stops} SIGSTOPs past the ` +
    `lease, ${counts.connectionKills} connection kills, ${counts.clientRetries} client retries; ${stepStarts} step starts, ` +
    `${reruns} re-runs (${summary.rerunsPerKill} per kill or stop); ${inProgress} flows still on their way at the end; ` +
    `${violations.length} invariants broken`,
);
for (const v of violations.slice(0, 50))
  console.log(`  ${v.invariant}${v.flowId ? ` ${v.flowId}` : ''}: ${v.detail}`);
console.log(JSON.stringify(summary));

await store.close();
admin.disconnect();
await server.stop();
if (args.keep || violations.length > 0) {
  writeFileSync(join(dir, 'sends.json'), JSON.stringify(sends));
  console.log(`journals kept in ${dir}`);
} else rmSync(dir, { recursive: true, force: true });
process.exit(violations.length > 0 ? 1 : 0);
