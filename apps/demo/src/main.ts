/**
 * The Ergon demo: an order pipeline on the embedded SQLite store. Orders
 * arrive as transactions in a JSON-lines file (the `order-feed` producer);
 * two worker processes run the `order-intake` consumer, which processes each
 * transaction as a durable flow. Midway one worker is SIGKILLed; its
 * transactions go to the other worker, whose flows resume where they stopped.
 * At the end: a summary, one order's history and its DAG, and the CLI
 * commands to look inside.
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
import { startTask } from '@ergon/tasks';
import { dbPath, ledgerPath, orderCount, ordersPath, workDir } from './config.js';
import { checks } from './flows.js';
import { APPROVAL_THRESHOLD, makeOrders, readLedger } from './orders.js';
import type { WorkerMessage } from './worker.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const shown = (path: string) => relative(process.cwd(), path) || '.';

// A clean slate first; the tasks module opens the store, so it is imported after.
rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });
const { orderFeed, store } = await import('./tasks.js');

const started = Date.now();
const say = (line: string) =>
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
const client = new Client({ store });
const orders = makeOrders(orderCount);

// ---- the workers: each runs the order-intake consumer --------------------------------
interface WorkerState {
  readonly child: ChildProcess;
  readonly inFlight: Set<string>;
  readonly succeeded: Set<string>;
  readonly failed: Map<string, string>;
  readonly exited: Promise<void>;
}
const spawnWorker = (id: string): WorkerState => {
  const child = fork(join(here, 'worker.js'), [], {
    env: { ...process.env, ERGON_WORKER_ID: id },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const state: WorkerState = {
    child,
    inFlight: new Set(),
    succeeded: new Set(),
    failed: new Map(),
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
  };
  child.on('message', (message: WorkerMessage) => {
    if (message.type === 'start') state.inFlight.add(message.id);
    if (message.type !== 'outcome' || message.id === undefined) return;
    state.inFlight.delete(message.id);
    if (message.status === 'succeeded') state.succeeded.add(message.id);
    else if (message.status === 'failed') state.failed.set(message.id, message.error ?? 'failed');
  });
  return state;
};
const workers = new Map([
  ['worker-1', spawnWorker('worker-1')],
  ['worker-2', spawnWorker('worker-2')],
]);
say(
  `started worker-1 and worker-2: separate processes, each running the order-intake consumer on ${shown(ordersPath)}`,
);

// ---- the orders arrive -----------------------------------------------------------------
const feed = startTask(orderFeed, { handleSignals: false });
let fed = false;
void feed.done.then((summary) => {
  fed = true;
  say(`order-feed appended ${summary.succeeded} orders to ${shown(ordersPath)} (${summary.failed} failed)`);
});
say(
  `order-feed: ${orders.length} orders arriving in bursts (${orders.filter((o) => o.amount >= APPROVAL_THRESHOLD).length} need a manager's approval)`,
);

// ---- watch: approve large orders, kill a worker midway ------------------------------------
const approved = new Set<string>();
let crash: { worker: string; pid: number | undefined; transactions: string[] } | undefined;
const succeeded = () => new Set([...workers.values()].flatMap((w) => [...w.succeeded]));
const failed = () => new Map([...workers.values()].flatMap((w) => [...w.failed]));

try {
  for (;;) {
    // Done when every order's flow finished. (Not "when every outcome was reported": the
    // killed worker may have finished a transaction in the instant before its report.)
    const finished = await store.listFlows({
      status: ['completed', 'failed', 'cancelled'],
      type: 'process-order',
      limit: 1000,
    });
    if (fed && finished.flows.length >= orders.length) break;
    if (Date.now() - started > 120_000) {
      const missing = orders.filter((o) => !finished.flows.some((f) => f.id === o.id)).map((o) => o.id);
      throw new Error(`the demo did not finish within two minutes; unfinished: ${missing.join(', ')}`);
    }
    // The manager approves large orders once they are waiting for it.
    const waiting = (await store.listFlows({ status: 'suspended', type: 'process-order', limit: 1000 }))
      .flows;
    for (const f of waiting) {
      if (approved.has(f.id) || !f.waits.some((w) => w.kind === 'signal' && w.name === 'manager-approval'))
        continue;
      approved.add(f.id);
      await client.signal(f.id, 'manager-approval', { by: 'manager-maria' });
      say(`manager approved ${f.id}`);
    }
    // Midway, kill the worker that holds the most transactions, without warning.
    if (!crash && finished.flows.length >= orders.length / 4) {
      const [name, victim] = [...workers].sort((a, b) => b[1].inFlight.size - a[1].inFlight.size)[0] ?? [];
      if (name && victim && victim.inFlight.size > 0) {
        const transactions = [...victim.inFlight].sort();
        victim.child.kill('SIGKILL');
        crash = { worker: name, pid: victim.child.pid, transactions };
        say(
          `SIGKILL ${name} (pid ${victim.child.pid}) while it processes ${transactions.length} transactions: ${transactions.join(', ')}`,
        );
        say('the other worker takes the lines over at once; each flow resumes once its 2 s lease expires');
      }
    }
    await delay(100);
  }
} finally {
  feed.abort().catch(() => {});
  for (const w of workers.values()) w.child.kill('SIGTERM');
  await Promise.all([...workers.values()].map((w) => w.exited));
}

// ---- summary ----------------------------------------------------------------------------
const all = (await store.listFlows({ type: 'process-order', limit: 1000 })).flows;
const results = await Promise.all(
  all.map((f) => client.result<{ status: string }>(f.id).catch(() => undefined)),
);
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
const effects = readLedger(ledgerPath);
const once = (effect: string) => [...effects].filter(([k]) => k.startsWith(`${effect} `));
const charges = once('charge');
const labels = once('label');
const attempts = [...effects].filter(([k]) => k.startsWith('attempt:')).reduce((a, [, n]) => a + n, 0);
const everyEffectOnce =
  charges.length === orders.length && [...charges, ...labels, ...once('handover')].every(([, n]) => n === 1);
const completed = (await store.listFlows({ status: 'completed', type: 'process-order', limit: 1000 })).flows
  .length;
const survivor = crash ? [...workers].find(([name]) => name !== crash?.worker)?.[1] : undefined;
const takenOver = crash?.transactions.filter((id) => survivor?.succeeded.has(id)) ?? [];
// A transaction the victim finished just before the kill (its report lost) is not redelivered; its flow is complete all the same.
const crashFlows = await Promise.all((crash?.transactions ?? []).map((id) => store.getFlow(id)));
const crashRecovered = crash !== undefined && crashFlows.every((f) => f?.status === 'completed');
const perWorker = [...workers].map(([name, w]) => `${name}: ${w.succeeded.size}`).join(', ');
const reported = succeeded().size + failed().size;
const unreported = orders.length - reported;
const errors = failed();

console.log('\n─── Ergon demo summary ───────────────────────────────────────────');
console.log(
  `orders completed     ${completed}/${orders.length} (${shipped} shipped, ${rejected} rejected by checks)`,
);
console.log(
  `transactions         ${succeeded().size} processed and acked by order-intake (${perWorker}); ${errors.size} failed` +
    (unreported > 0 ? `; ${unreported} finished by ${crash?.worker} in the instant it was killed` : ''),
);
console.log(`steps recorded       ${stepsRun} (each exactly once: history is keyed by flow and position)`);
console.log(`retries              ${retries} (the flaky payment provider)`);
console.log(`approvals            ${approved.size} large orders approved by signal`);
console.log(
  crash
    ? `crash                ${crash.worker} SIGKILLed holding ${crash.transactions.length} transactions; ` +
        `${crashRecovered ? 'all recovered' : 'NOT all recovered'}: ${takenOver.length} taken over by the other worker, ` +
        'each flow resumed after its last finished step'
    : 'crash                none happened (the run finished before the kill point)',
);
console.log(
  `side effects         ${charges.length} charges, ${labels.length} labels, one per order: ${everyEffectOnce ? 'yes' : 'NO'} ` +
    `(${attempts} step runs reached the provider; repeats, if any, deduplicated by idempotency key)`,
);
console.log(`time taken           ${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const [id, error] of errors) console.log(`  failed: ${id}: ${error}`);

const sample = crash?.transactions[0] ?? all[0]?.id;
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
const storeArg = `sqlite:${relative(repo, dbPath)}`;
const tasksModule = relative(repo, join(here, 'tasks.js'));
console.log('\nInspect the run with the ergon CLI, from the repository root:');
console.log(`  npm run ergon -- --store ${storeArg} flows list`);
console.log(`  npm run ergon -- --store ${storeArg} flows show ${sample ?? '<flow id>'}`);
console.log(`  npm run ergon -- --store ${storeArg} flows list --status completed --type ship-order --json`);
console.log(`  npm run ergon -- --store ${storeArg} dashboard   (the web dashboard; open the address it prints)`);
console.log(
  'Process one order again by its transaction id (its flow is finished: the recorded result, nothing re-runs):',
);
console.log(
  `  npm run ergon -- task process ${tasksModule} --export orderIntake --id ${sample ?? 'order-001'}`,
);
await store.close();
const ok =
  completed === orders.length &&
  errors.size === 0 &&
  (crash === undefined || crashRecovered) &&
  everyEffectOnce;
process.exit(ok ? 0 : 1);
