// Redis fault injection with real worker processes (issue "storage-redis").
// Every test starts its own redis-server on a free port in a temp dir, so
// CLIENT KILL, CLIENT PAUSE and SIGKILL never touch the shared Redis. Four
// worker processes (fixtures/redis-fault-worker.mjs) run 3-step flows and
// report every claim and every run outcome over IPC with a timestamp; the
// tests measure recovery from those reports.
import { type ChildProcess, fork } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { noopLogger, runtimeStore } from '@ergon/core';
import { Client, flow } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { PrivateRedisServer, requireRedisServer } from '@ergon/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const WORKER = fileURLToPath(new URL('./fixtures/redis-fault-worker.mjs', import.meta.url));
const FLOWS = 1000;
const PROCESSES = 4;
const CONCURRENCY = 8;
/** Each of the 3 steps sleeps this long, so a run of 1,000 flows on 4 × 8 slots lasts ~10 s (~10 kills). */
const STEP_MS = 100;
/** A worker must make progress this soon after a fault ends. */
const RECOVERY_MS = 5000;

// Same name as the fixture's flow: scheduling needs only the type name.
const faultSteps = flow('fault-steps', async (_ctx, n: number) => n);

// Under CI=true a missing redis-server fails here; elsewhere the suite is skipped loudly.
const redisServerAvailable = requireRedisServer();

// ---------------------------------------------------------------------------
// Processes of this file, killed whatever happens.

const liveChildren = new Set<ChildProcess>();
const killEverything = () => {
  for (const child of liveChildren) child.kill('SIGKILL');
};
process.once('exit', killEverything);

// ---------------------------------------------------------------------------
// Worker processes and their reports.

interface Report {
  readonly kind: 'ready' | 'claim' | 'claim-error' | 'outcome';
  readonly at: number;
  readonly n?: number;
  /** Of a claim: `id@token` of the flows taken, and the `now` the claim was made with. */
  readonly flows?: readonly string[];
  readonly now?: number;
  readonly flowId?: string;
  readonly status?: string;
  readonly error?: string;
}

interface WorkerProcess {
  readonly id: string;
  readonly child: ChildProcess;
  readonly reports: Report[];
  readonly stderr: string[];
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

async function startWorkers(url: string, prefix: string): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: PROCESSES }, (_, slot): WorkerProcess => {
    const id = `w${slot}`;
    const child = fork(WORKER, [], {
      env: {
        ...process.env,
        REDIS_URL: url,
        REDIS_PREFIX: prefix,
        WORKER_ID: id,
        CONCURRENCY: String(CONCURRENCY),
        STEP_MS: String(STEP_MS),
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    const worker: WorkerProcess = { id, child, reports: [], stderr: [] };
    child.on('message', (message) => worker.reports.push(message as Report));
    child.stderr?.on('data', (chunk: Buffer) => worker.stderr.push(chunk.toString()));
    return worker;
  });
  for (const w of workers) {
    await waitFor(
      `worker ${w.id} to open its store`,
      () => {
        if (w.child.exitCode !== null) throw new Error(`worker ${w.id} exited: ${w.stderr.join('')}`);
        return w.reports.some((r) => r.kind === 'ready');
      },
      15_000,
    );
  }
  return workers;
}

async function stopWorkers(workers: readonly WorkerProcess[]): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return;
      const exited = new Promise((resolve) => w.child.once('exit', resolve));
      w.child.kill('SIGKILL');
      await exited;
    }),
  );
}

/** Progress: a claim that took flows, or a run that completed its flow. */
const isProgress = (r: Report) =>
  (r.kind === 'claim' && (r.n ?? 0) > 0) || (r.kind === 'outcome' && r.status === 'completed');

/** The first progress this worker reported strictly after `t`. */
function progressAfter(w: WorkerProcess, t: number): number | undefined {
  return w.reports.find((r) => r.at > t && isProgress(r))?.at;
}

function completions(workers: readonly WorkerProcess[]): number {
  const ids = new Set<string>();
  for (const w of workers)
    for (const r of w.reports) if (r.kind === 'outcome' && r.status === 'completed') ids.add(r.flowId ?? '');
  return ids.size;
}

function countReports(workers: readonly WorkerProcess[], kind: Report['kind'], status?: string): number {
  return workers.reduce(
    (sum, w) =>
      sum + w.reports.filter((r) => r.kind === kind && (status === undefined || r.status === status)).length,
    0,
  );
}

/** Leases of the fixture's workers. */
const LEASE_MS = 1000;

/**
 * Claims that took flows: how many flows were taken more than once, and how
 * many claims were answered only after the lease they asked for had already
 * run out (a claim made with `now`, applied by Redis later than `now + lease`).
 */
function claimStats(workers: readonly WorkerProcess[]): string {
  let taken = 0;
  let late = 0;
  let lateFlows = 0;
  let maxLag = 0;
  const ids = new Set<string>();
  for (const w of workers) {
    for (const r of w.reports) {
      if (r.kind !== 'claim' || !r.n) continue;
      taken += r.n;
      for (const f of r.flows ?? []) ids.add(f.split('@')[0] ?? '');
      const lag = r.at - (r.now ?? r.at);
      maxLag = Math.max(maxLag, lag);
      if (lag > LEASE_MS) {
        late++;
        lateFlows += r.n;
      }
    }
  }
  return (
    `${taken - ids.size} re-claims; ${late} claims (${lateFlows} flows) answered after their ${LEASE_MS} ms ` +
    `lease had expired, longest claim ${maxLag} ms`
  );
}

/** Whether no flow is pending, running or suspended; a failing call (a fault right now) reads as "no". */
async function allFinished(store: RedisExecutionLog): Promise<boolean> {
  try {
    const page = await runtimeStore(store).listFlows({ status: ['pending', 'running', 'suspended'], limit: 1 });
    return page.flows.length === 0;
  } catch {
    return false;
  }
}

/** Polls until every flow has finished; returns when that was seen. */
async function waitAllFinished(store: RedisExecutionLog, deadline: number, what: string): Promise<number> {
  while (!(await allFinished(store))) {
    if (Date.now() > deadline) throw new Error(`flows did not finish in time (${what})`);
    await delay(100);
  }
  return Date.now();
}

async function scheduleFlows(client: Client, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 100) {
    await Promise.all(
      ids
        .slice(i, i + 100)
        .map((flowId) => client.schedule(faultSteps, Number(flowId.split('-').at(-1)), { flowId })),
    );
  }
}

/** Every flow completed with the right result; a sample also checked step by step. */
async function verifyCompleted(
  store: RedisExecutionLog,
  client: Client,
  ids: readonly string[],
): Promise<void> {
  const records = await Promise.all(ids.map((id) => store.getFlow(id)));
  const notCompleted = ids.filter((_id, i) => records[i]?.status !== 'completed');
  expect(notCompleted, `flows not completed: ${notCompleted.slice(0, 20).join(', ')}`).toEqual([]);
  for (const [i, id] of ids.entries()) {
    if (i % 97 !== 0) continue;
    const n = Number(id.split('-').at(-1));
    expect(await client.result(id)).toBe(3 + n);
    const history = await store.getHistory(id);
    expect(history.map((h) => h.key)).toEqual(['step-0#0', 'step-1#0', 'step-2#0']);
    expect(history.every((h) => h.status === 'completed')).toBe(true);
  }
}

function stderrOf(workers: readonly WorkerProcess[]): string {
  return workers.map((w) => `--- ${w.id}\n${w.stderr.join('').slice(-3000)}`).join('\n');
}

// ---------------------------------------------------------------------------

describe.skipIf(!redisServerAvailable)('Redis faults under real worker processes', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    // Also after a failed test: workers first, then connections, then servers.
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // keep cleaning up
      }
    }
  });
  afterAll(() => killEverything());

  /** A private server, the test's own store and client, and the worker processes. */
  async function setup(name: string, serverArgs: readonly string[] = [], commandTimeoutMs = 10_000) {
    const server = await PrivateRedisServer.start(serverArgs);
    cleanups.push(() => server.stop());
    const prefix = `faults:${name}`;
    const store = await RedisExecutionLog.open({
      url: server.url,
      prefix,
      logger: noopLogger,
      commandTimeoutMs,
    });
    cleanups.push(() => store.close());
    const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => {});
    cleanups.push(() => admin.disconnect());
    const client = new Client({ store });
    return { server, store, admin, client, prefix };
  }

  async function workersFor(url: string, prefix: string): Promise<WorkerProcess[]> {
    const workers = await startWorkers(url, prefix);
    cleanups.push(() => stopWorkers(workers));
    return workers;
  }

  it(`${FLOWS} flows complete under CLIENT KILL TYPE normal every second; every worker claims again within 5 s`, async () => {
    const { server, store, admin, client, prefix } = await setup('kill');
    const ids = Array.from({ length: FLOWS }, (_, n) => `kill-${n}`);
    await scheduleFlows(client, ids);
    const workers = await workersFor(server.url, prefix);

    const started = Date.now();
    const kills: { at: number; killed: number }[] = [];
    let finishedAt: number | undefined;
    while (finishedAt === undefined) {
      if (Date.now() - started > 30_000)
        throw new Error(`flows did not finish within 30 s\n${stderrOf(workers)}`);
      const next = (kills.at(-1)?.at ?? started) + 1000;
      while (finishedAt === undefined && Date.now() < next) {
        if (await allFinished(store)) finishedAt = Date.now();
        else await delay(50);
      }
      if (finishedAt !== undefined) break;
      const killed = Number(await admin.client('KILL', 'TYPE', 'normal'));
      kills.push({ at: Date.now(), killed });
    }
    const done = finishedAt;
    await delay(100); // let the last IPC reports arrive

    // Every worker made progress within 5 s of every kill (unless the run was over by then).
    const recoveries: number[] = [];
    const late: string[] = [];
    for (const [k, kill] of kills.entries()) {
      for (const w of workers) {
        const at = progressAfter(w, kill.at);
        if (at !== undefined && at - kill.at <= RECOVERY_MS) recoveries.push(at - kill.at);
        else if (done > kill.at + RECOVERY_MS)
          late.push(
            `kill #${k + 1}: ${w.id} ${at === undefined ? 'never progressed' : `progressed after ${at - kill.at} ms`}`,
          );
      }
    }
    const worst = Math.max(0, ...recoveries);
    const sorted = [...recoveries].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    console.log(
      `[redis CLIENT KILL] ${FLOWS} flows in ${((done - started) / 1000).toFixed(1)} s; ${kills.length} kills ` +
        `(${Math.min(...kills.map((k) => k.killed))}–${Math.max(...kills.map((k) => k.killed))} connections each); ` +
        `recovery per worker and kill: median ${median} ms, worst ${worst} ms over ${recoveries.length} samples; ` +
        `${countReports(workers, 'claim-error')} failed claims, ${countReports(workers, 'outcome', 'abandoned')} abandoned runs; ` +
        claimStats(workers),
    );
    expect(late, stderrOf(workers)).toEqual([]);
    expect(kills.length).toBeGreaterThanOrEqual(5);
    // Each kill dropped every worker's command connection (and the test's own).
    for (const kill of kills) expect(kill.killed).toBeGreaterThanOrEqual(PROCESSES);
    await verifyCompleted(store, client, ids);
  }, 120_000);

  it('workers resume after CLIENT PAUSE 3000 WRITE and every flow completes', async () => {
    const { server, store, admin, client, prefix } = await setup('pause');
    const ids = Array.from({ length: FLOWS }, (_, n) => `pause-${n}`);
    await scheduleFlows(client, ids);
    const workers = await workersFor(server.url, prefix);
    const started = Date.now();

    await waitFor('100 completions before the pause', () => completions(workers) >= 100, 15_000);
    const pauseSent = Date.now();
    expect(await admin.client('PAUSE', 3000, 'WRITE')).toBe('OK');
    const pauseAcked = Date.now();
    const pauseEnd = pauseAcked + 3000; // the pause ends by then at the latest
    const before = completions(workers);

    const done = await waitAllFinished(store, started + 35_000, stderrOf(workers));
    await delay(100);

    // The pause took hold: no flow finished (a write) while it lasted.
    const duringPause = workers.flatMap((w) =>
      w.reports.filter(
        (r) =>
          r.kind === 'outcome' &&
          r.status === 'completed' &&
          r.at > pauseAcked + 200 &&
          r.at < pauseSent + 2800,
      ),
    );
    expect(duringPause).toEqual([]);
    // Every worker made progress again within 5 s of the end of the pause (or the run was over by then).
    const resumed = workers.map((w) => {
      const at = progressAfter(w, pauseEnd);
      return { id: w.id, after: at === undefined ? undefined : at - pauseEnd };
    });
    console.log(
      `[redis CLIENT PAUSE] ${FLOWS} flows in ${((done - started) / 1000).toFixed(1)} s; ${before} completed before ` +
        `the 3 s pause; first progress after it, per worker: ${resumed.map((r) => `${r.id} ${r.after ?? '–'} ms`).join(', ')}; ` +
        `${countReports(workers, 'outcome', 'abandoned')} abandoned runs; ${claimStats(workers)}`,
    );
    expect(before).toBeLessThan(FLOWS / 2);
    for (const r of resumed) {
      if (done > pauseEnd + RECOVERY_MS) {
        expect(r.after, `${r.id} did not resume after the pause\n${stderrOf(workers)}`).toBeDefined();
        expect(r.after ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(RECOVERY_MS);
      }
    }
    expect(completions(workers)).toBeGreaterThan(before);
    await verifyCompleted(store, client, ids);
  }, 120_000);

  it('every acknowledged schedule completes across a SIGKILL and restart of redis-server (AOF, fsync always)', async () => {
    const { server, store, client, prefix } = await setup(
      'restart',
      ['--appendonly', 'yes', '--appendfsync', 'always'],
      2000,
    );
    // A first batch up front; the rest is scheduled while the workers run, across the outage.
    const acknowledged: string[] = [];
    const refused: string[] = [];
    const first = Array.from({ length: 300 }, (_, n) => `restart-${n}`);
    await scheduleFlows(client, first);
    acknowledged.push(...first);
    const workers = await workersFor(server.url, prefix);
    const started = Date.now();

    let scheduling = true;
    const scheduler = (async () => {
      for (let n = first.length; n < FLOWS && scheduling; n++) {
        const flowId = `restart-${n}`;
        try {
          await client.schedule(faultSteps, n, { flowId });
          acknowledged.push(flowId);
          await delay(5);
        } catch {
          refused.push(flowId);
          await delay(50);
        }
      }
    })();
    cleanups.push(async () => {
      scheduling = false;
      await scheduler;
    });

    await waitFor('150 completions before the restart', () => completions(workers) >= 150, 15_000);
    const ackedBeforeKill = acknowledged.length;
    await server.kill();
    const killedAt = Date.now();
    // Down longer than ioredis's 5 reconnect attempts (~1.6 s): queued calls fail, runs are abandoned.
    await delay(3000);
    await server.spawn();
    const restartedAt = Date.now();

    await scheduler;
    const scheduledAt = Date.now();
    const done = await waitAllFinished(store, started + 35_000, stderrOf(workers));
    await delay(100);

    const resumed = workers.map((w) => {
      const at = progressAfter(w, restartedAt);
      return { id: w.id, after: at === undefined ? undefined : at - restartedAt };
    });
    console.log(
      `[redis restart] ${acknowledged.length} acknowledged schedules (${ackedBeforeKill} before the kill), ` +
        `${refused.length} refused while down; down ${restartedAt - killedAt} ms (incl. AOF load); ` +
        `all finished ${((done - restartedAt) / 1000).toFixed(1)} s after the restart ` +
        `(${((done - started) / 1000).toFixed(1)} s in all, scheduling ended ${((scheduledAt - started) / 1000).toFixed(1)} s in); ` +
        `first progress after restart per worker: ${resumed.map((r) => `${r.id} ${r.after ?? '–'} ms`).join(', ')}; ` +
        `${countReports(workers, 'claim-error')} failed claims, ${countReports(workers, 'outcome', 'abandoned')} abandoned runs; ` +
        claimStats(workers),
    );
    expect(acknowledged.length).toBeGreaterThan(ackedBeforeKill); // scheduling went on after the restart
    for (const r of resumed) {
      if (done > restartedAt + RECOVERY_MS) {
        expect(r.after, `${r.id} did not resume after the restart\n${stderrOf(workers)}`).toBeDefined();
      }
    }
    await verifyCompleted(store, client, acknowledged);
  }, 120_000);
});
