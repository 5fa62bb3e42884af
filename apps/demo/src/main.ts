/**
 * The Ergon demo: an order pipeline on the embedded SQLite store. Two worker
 * processes run the orders; midway one is SIGKILLed and the other takes its
 * flows over. At the end: a summary, one order's history and its DAG.
 *
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client } from '@ergon/executor';
import { renderAscii } from '@ergon/graph';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { checks, processOrder } from './flows.js';
import { APPROVAL_THRESHOLD, makeOrders, readLedger } from './orders.js';

const here = dirname(fileURLToPath(import.meta.url));
const workDir = join(here, '..', '.ergon');
const dbPath = join(workDir, 'demo.db');
const ledger = join(workDir, 'ledger.txt');
const ORDERS = Number(process.env.ERGON_DEMO_ORDERS ?? 40);

rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });
process.env.ERGON_DEMO_LEDGER = ledger;

const started = Date.now();
const say = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);

const store = await SqliteExecutionLog.open({ path: dbPath });
const client = new Client({ store });
const orders = makeOrders(ORDERS);
for (const order of orders) await client.schedule(processOrder, order, { flowId: order.id });
say(`scheduled ${orders.length} orders in ${relative(process.cwd(), dbPath)} (${orders.filter((o) => o.amount >= APPROVAL_THRESHOLD).length} need a manager's approval)`);

const spawnWorker = (id: string): ChildProcess =>
  fork(join(here, 'worker.js'), [], {
    env: { ...process.env, ERGON_DEMO_DB: dbPath, ERGON_WORKER_ID: id },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
const workers = new Map([
  ['worker-1', spawnWorker('worker-1')],
  ['worker-2', spawnWorker('worker-2')],
]);
say('started worker-1 and worker-2 (separate processes, one SQLite file)');

const approved = new Set<string>();
let crash: { worker: string; flows: string[] } | undefined;
const count = async (status: 'completed' | 'failed' | 'cancelled') =>
  (await store.listFlows({ status, type: 'process-order', limit: 1000 })).flows.length;

try {
  for (;;) {
    const unfinished = (await store.listFlows({ status: ['pending', 'running', 'suspended'], limit: 1000 })).flows;
    if (unfinished.length === 0) break;
    if (Date.now() - started > 120_000) throw new Error('the demo did not finish within two minutes');
    // The manager approves large orders once they are waiting for it.
    for (const f of unfinished) {
      if (approved.has(f.id) || !f.waits.some((w) => w.kind === 'signal' && w.name === 'manager-approval')) continue;
      approved.add(f.id);
      await client.signal(f.id, 'manager-approval', { by: 'manager-maria' });
      say(`manager approved ${f.id}`);
    }
    // Midway, kill the worker that holds the most running flows, without warning.
    const done = await count('completed');
    if (!crash && done >= orders.length / 4) {
      const running = unfinished.filter((f) => f.status === 'running' && f.leaseOwner);
      const byOwner = new Map<string, string[]>();
      for (const f of running) byOwner.set(f.leaseOwner ?? '', [...(byOwner.get(f.leaseOwner ?? '') ?? []), f.id]);
      const [victim, flows] = [...byOwner].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
      const child = victim ? workers.get(victim) : undefined;
      if (victim && flows && child) {
        child.kill('SIGKILL');
        crash = { worker: victim, flows };
        say(`SIGKILL ${victim} (pid ${child.pid}) while it runs ${flows.length} flows: ${flows.join(', ')}`);
        say('its leases expire in 2 s; the other worker takes the flows over');
      }
    }
    await delay(100);
  }
} finally {
  for (const child of workers.values()) child.kill('SIGTERM');
}

// ---- summary ----------------------------------------------------------------
const all = (await store.listFlows({ type: 'process-order', limit: 1000 })).flows;
const results = await Promise.all(all.map((f) => client.result<{ status: string }>(f.id).catch(() => undefined)));
const shipped = results.filter((r) => r?.status === 'shipped').length;
const rejected = results.filter((r) => r?.status === 'rejected').length;
let retries = 0;
let stepsRun = 0;
for (const f of (await store.listFlows({ limit: 1000 })).flows) {
  for (const h of await store.getHistory(f.id)) {
    if (h.kind === 'step' || h.kind === 'run') {
      retries += h.attempts - 1;
      stepsRun++;
    }
  }
}
const effects = readLedger(ledger);
const once = (effect: string) => [...effects].filter(([k]) => k.startsWith(`${effect} `));
const charges = once('charge');
const labels = once('label');
const attempts = [...effects].filter(([k]) => k.startsWith('attempt:')).reduce((a, [, n]) => a + n, 0);
const everyEffectOnce = [...charges, ...labels, ...once('handover')].every(([, n]) => n === 1);
const recovered = crash ? await Promise.all(crash.flows.map((id) => store.getFlow(id))) : [];
const crashRecovered = recovered.every((f) => f?.status === 'completed' && (f.runCount ?? 0) >= 2);
const completed = await count('completed');

console.log('\n─── Ergon demo summary ───────────────────────────────────────────');
console.log(`orders completed     ${completed}/${orders.length} (${shipped} shipped, ${rejected} rejected by checks)`);
console.log(`steps recorded       ${stepsRun} (each exactly once: history is keyed by flow and position)`);
console.log(`retries              ${retries} (the flaky payment provider)`);
console.log(`approvals            ${approved.size} large orders approved by signal`);
console.log(
  crash
    ? `crash                ${crash.worker} SIGKILLed holding ${crash.flows.length} flows; ${crashRecovered ? 'all recovered by the other worker' : 'NOT all recovered'}`
    : 'crash                none happened (the run finished before the kill point)',
);
console.log(
  `side effects         ${charges.length} charges, ${labels.length} labels, one per order: ${everyEffectOnce ? 'yes' : 'NO'} ` +
    `(${attempts} step runs reached the provider; repeats, if any, deduplicated by idempotency key)`,
);
console.log(`time taken           ${((Date.now() - started) / 1000).toFixed(1)} s`);

const sample = crash?.flows[0] ?? all[0]?.id;
if (sample) {
  const info = await client.get(sample);
  console.log(`\nhistory of ${sample} (runs: ${info.runCount}):`);
  console.log('  pos  key                                 status     attempts  ms');
  for (const h of info.history) {
    console.log(
      `  ${String(h.position).padStart(3)}  ${h.key.padEnd(34)}  ${h.status.padEnd(9)}  ${String(h.attempts).padStart(8)}  ${h.durationMs ?? ''}`,
    );
  }
  const status = Object.fromEntries(checks.order.map((n) => [n, 'completed' as const]));
  console.log(`\nits checks DAG:\n${renderAscii(checks, { status })}`);
}
const repo = join(here, '..', '..', '..');
const storeArg = `sqlite:${relative(repo, dbPath)}`;
console.log('\nInspect the run with the ergon CLI, from the repository root:');
console.log(`  npm run ergon -- --store ${storeArg} flows list`);
console.log(`  npm run ergon -- --store ${storeArg} flows show ${sample ?? '<flow id>'}`);
console.log(`  npm run ergon -- --store ${storeArg} flows list --status completed --type ship-order --json`);
await store.close();
const ok = completed === orders.length && (crash === undefined || crashRecovered) && everyEffectOnce;
process.exit(ok ? 0 : 1);
