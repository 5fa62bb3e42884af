// Multi-process crash tests (issues: SQLite, Redis and PostgreSQL stores). Four worker
// processes share one store; a random one is SIGKILLed about every half second
// and restarted. Every flow must complete, every step be recorded exactly once,
// and re-runs stay bounded by the kills. Writes go in coalesced batches (issue #17),
// so kills also land while a batch is in flight.
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type ExecutionLog, runtimeStore } from '@ergon/core';
import { Client, flow } from '@ergon/executor';
import { requireService } from '@ergon/testing';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

const FLOWS = Number(process.env.ERGON_CRASH_FLOWS ?? 2000);
const PROCESSES = 4;
const CONCURRENCY = 8;
const WORKER = fileURLToPath(new URL('./fixtures/crash-worker.mjs', import.meta.url));
const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisAvailable = (await requireService('Redis', REDIS_URL)).available;
const POSTGRES_URL = process.env.ERGON_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const postgresAvailable = (await requireService('PostgreSQL', POSTGRES_URL)).available;

// Same name as the fixture's flow: scheduling needs only the type name.
const fiveSteps = flow('five-steps', async (_ctx, n: number) => n);

interface Setup {
  env: Record<string, string>;
  open(): Promise<ExecutionLog>;
  verify(store: ExecutionLog): Promise<void>;
  cleanup(): Promise<void>;
}

async function sqliteSetup(dir: string): Promise<Setup> {
  const path = join(dir, 'crash.db');
  const { SqliteExecutionLog } = await import('@ergon/storage-sqlite');
  return {
    env: { STORE: 'sqlite', DB_PATH: path },
    open: () => SqliteExecutionLog.open({ path }),
    async verify() {
      const db = new Database(path, { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        db.close();
      }
    },
    async cleanup() {},
  };
}

async function redisSetup(): Promise<Setup> {
  const prefix = `ergon-test:crash:${randomUUID()}`;
  const { RedisExecutionLog } = await import('@ergon/storage-redis');
  return {
    env: { STORE: 'redis', REDIS_URL, REDIS_PREFIX: prefix },
    open: () => RedisExecutionLog.open({ url: REDIS_URL, prefix }),
    async verify() {},
    async cleanup() {
      const admin = new Redis(REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `\\{${prefix}\\}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await admin.del(...keys);
      } while (cursor !== '0');
      admin.disconnect();
    },
  };
}

async function postgresSetup(): Promise<Setup> {
  const { PostgresExecutionLog } = await import('@ergon/storage-postgres');
  const { postgresSchema, dropPostgresSchema } = await import('./postgres.js');
  const schema = postgresSchema('crash');
  return {
    env: { STORE: 'postgres', POSTGRES_URL, POSTGRES_SCHEMA: schema, POSTGRES_APP: schema },
    open: () => PostgresExecutionLog.open({ url: POSTGRES_URL, schema }),
    async verify() {},
    cleanup: () => dropPostgresSchema(schema),
  };
}

const cases = [
  { name: 'sqlite', make: sqliteSetup, available: true },
  { name: 'redis', make: () => redisSetup(), available: redisAvailable },
  { name: 'postgres', make: () => postgresSetup(), available: postgresAvailable },
];

describe.each(cases)('crash test on $name', ({ name, make, available }) => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.runIf(available)(
    `${FLOWS} flows of 5 steps survive random SIGKILLs of ${PROCESSES} worker processes`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), `ergon-crash-${name}-`));
      dirs.push(dir);
      const ledger = join(dir, 'ledger.txt');
      writeFileSync(ledger, '');
      const batchLedger = join(dir, 'batches.txt');
      writeFileSync(batchLedger, '');
      const setup = await make(dir);
      const store = await setup.open();
      const client = new Client({ store });
      for (let n = 0; n < FLOWS; n++) await client.schedule(fiveSteps, n, { flowId: `crash-${n}` });

      const stderr: string[] = [];
      const spawnWorker = (slot: number): ChildProcess => {
        const child = fork(WORKER, [], {
          env: {
            ...process.env,
            ...setup.env,
            LEDGER: ledger,
            BATCH_LEDGER: batchLedger,
            WORKER_ID: `w${slot}-${Date.now()}`,
            CONCURRENCY: String(CONCURRENCY),
          },
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        });
        child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
        return child;
      };
      const workers = Array.from({ length: PROCESSES }, (_, slot) => spawnWorker(slot));
      let kills = 0;
      const unfinished = async () =>
        (await runtimeStore(store).listFlows({ status: ['pending', 'running', 'suspended'], limit: 1 })).flows
          .length;
      const started = Date.now();
      try {
        while ((await unfinished()) > 0) {
          if (Date.now() - started > 150_000) throw new Error('flows did not finish within 150 s');
          await delay(350 + Math.random() * 300);
          const slot = Math.floor(Math.random() * PROCESSES);
          const victim = workers[slot];
          if (victim && victim.exitCode === null && Date.now() - started < 20_000) {
            victim.kill('SIGKILL');
            kills++;
            await new Promise((resolve) => victim.once('exit', resolve));
            workers[slot] = spawnWorker(slot);
          }
        }
      } finally {
        for (const w of workers) w.kill('SIGKILL');
      }
      const elapsed = (Date.now() - started) / 1000;

      // Every flow completed with the right result; every step recorded exactly once
      // (history is keyed by flow and position: a second record cannot exist).
      const expectedKeys = [0, 1, 2, 3, 4].map((i) => `step-${i}#0`);
      let completed = 0;
      for (let n = 0; n < FLOWS; n++) {
        const f = await store.getFlow(`crash-${n}`);
        expect(f?.status, `crash-${n}`).toBe('completed');
        const history = await store.getHistory(`crash-${n}`);
        expect(history.map((h) => h.key)).toEqual(expectedKeys);
        expect(history.every((h) => h.status === 'completed')).toBe(true);
        if (n % 97 === 0) expect(await client.result(`crash-${n}`)).toBe(10 + n);
        completed++;
      }
      expect(completed).toBe(FLOWS);

      // The side-effect ledger: each step ran at least once; re-runs are bounded by the kills.
      const starts = new Map<string, number>();
      const ended = new Set<string>();
      let interrupted = 0;
      const lines = readFileSync(ledger, 'utf8').split('\n').filter(Boolean);
      for (const line of lines) {
        const [kind, flowId, step, pid] = line.split(' ');
        const key = `${flowId}/${step}`;
        if (kind === 'start') starts.set(key, (starts.get(key) ?? 0) + 1);
        else ended.add(`${key}/${pid}`);
      }
      for (const line of lines) {
        const [kind, flowId, step, pid] = line.split(' ');
        if (kind === 'start' && !ended.has(`${flowId}/${step}/${pid}`)) interrupted++;
      }
      expect(starts.size).toBe(FLOWS * 5);
      const reruns = [...starts.values()].reduce((a, b) => a + b, 0) - FLOWS * 5;
      // A kill interrupts at most CONCURRENCY in-flight steps of that process.
      expect(reruns).toBeLessThanOrEqual(kills * CONCURRENCY);
      // The writes went in coalesced batches, and kills landed on that path.
      const batchLines = readFileSync(batchLedger, 'utf8').split('\n').filter(Boolean);
      const sent = batchLines.filter((l) => l.startsWith('sent '));
      const done = new Set(batchLines.filter((l) => l.startsWith('done ')).map((l) => l.split(' ')[1]));
      const batchedWrites = sent.reduce((n, l) => n + Number(l.split(' ')[2]), 0);
      const cutBatches = sent.filter((l) => !done.has(l.split(' ')[1])).length;
      // SQLite answers at once, so only writes made in one turn of the event loop share a batch,
      // and these steps end on timers of their own: batches there are rare and not required.
      if (name !== 'sqlite') expect(sent.length, 'batches of coalesced writes').toBeGreaterThan(0);
      const busy = stderr.join('').match(/SQLITE_BUSY|database is locked/g);
      expect(busy, stderr.join('').slice(0, 2000)).toBeNull();
      await setup.verify(store);
      console.log(
        `[crash ${name}] ${FLOWS} flows × 5 steps in ${elapsed.toFixed(1)} s; ${kills} SIGKILLs; ` +
          `${reruns} step re-runs (${interrupted} step runs cut short by a kill); bound ${kills * CONCURRENCY}; ` +
          `${sent.length} batches of ${(batchedWrites / Math.max(1, sent.length)).toFixed(1)} writes, ${cutBatches} cut by a kill`,
      );
      await store.close();
      await setup.cleanup();
    },
  );
});
