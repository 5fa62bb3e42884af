// The dashboard's schedules, queues and flow-control answers on every store: memory, SQLite,
// Redis and PostgreSQL (each of them keeps schedules and has flow control). A queue with limits,
// two keyed flows of which the test claims one itself (no worker), and a schedule paused and run
// now through the API: each store answers the same. Redis and PostgreSQL are the local services
// (a prefix or schema of this test's own, removed after); under CI=true a missing one fails.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExecutionLog, InMemoryExecutionLog } from '@ergon/core';
import { Client } from '@ergon/executor';
import { PostgresExecutionLog } from '@ergon/storage-postgres';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { requireService } from '@ergon/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionResult, FlowDetail, QueuesPage, ScheduleDetail, SessionInfo } from '../src/index.js';
import { type Served, serve, TOKEN } from './support.js';

const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.ERGON_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
// Skipped only off CI when the service is down (requireService warns); under CI=true it throws.
const redisAvailable = (await requireService('Redis', REDIS_URL)).available;
const postgresAvailable = (await requireService('PostgreSQL', POSTGRES_URL)).available;
const suffix = randomBytes(5).toString('hex');

interface Backend {
  readonly store: ExecutionLog;
  readonly dispose: () => Promise<void>;
}

const BACKENDS: readonly { name: string; available: boolean; open: () => Promise<Backend> }[] = [
  {
    name: 'memory',
    available: true,
    open: async () => {
      const store = new InMemoryExecutionLog();
      return { store, dispose: () => store.close() };
    },
  },
  {
    name: 'sqlite',
    available: true,
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ergon-dashboard-stores-'));
      const store = await SqliteExecutionLog.open({ path: join(dir, 'ergon.db') });
      return {
        store,
        dispose: async () => {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'redis',
    available: redisAvailable,
    open: async () => {
      const prefix = `ergon-test:dashboard:${suffix}`;
      const store = await RedisExecutionLog.open({ url: REDIS_URL, prefix });
      return {
        store,
        dispose: async () => {
          await store.close();
          const admin = new Redis(REDIS_URL);
          const keys = await admin.keys(`{${prefix}}:*`);
          if (keys.length > 0) await admin.del(...keys);
          admin.disconnect();
        },
      };
    },
  },
  {
    name: 'postgres',
    available: postgresAvailable,
    open: async () => {
      const schema = `ergon_test_dashboard_${suffix}`;
      const store = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema, poolSize: 2 });
      return {
        store,
        dispose: async () => {
          await store.close();
          const admin = new pg.Client({ connectionString: POSTGRES_URL });
          await admin.connect();
          await admin.query(`drop schema if exists "${schema}" cascade`);
          await admin.end();
        },
      };
    },
  },
];

for (const backend of BACKENDS) {
  // requireService: under CI=true a missing Redis or PostgreSQL fails the run; elsewhere the store's cases are skipped loudly.
  describe.skipIf(!backend.available)(`on the ${backend.name} store`, () => {
    let opened: Backend;
    let client: Client;
    let served: Served;
    const call = async <T>(path: string, body?: unknown): Promise<T> => {
      const res = await fetch(new URL(path, served.url), {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    beforeAll(async () => {
      opened = await backend.open();
      client = new Client({ store: opened.store });
      served = await serve(opened.store);
    });

    afterAll(async () => {
      await served?.close();
      await opened?.dispose();
    });

    it('shows a queue’s limits, its running flow, its key and why the other flow waits', async () => {
      const session = await call<SessionInfo>('api/session');
      expect(session.features).toEqual({ schedules: true, flowControl: true });
      await client.queues.configure('xs-q', {
        concurrency: 1,
        keyConcurrency: 1,
        rate: { limit: 9, period: '1m' },
      });
      for (const id of ['xs-1', 'xs-2'])
        await client.schedule('xs-type', { id }, { flowId: id, queue: 'xs-q', concurrencyKey: 'k' });
      const claimed = await client.store.claim({
        workerId: 'xs-worker',
        types: ['xs-type'],
        queues: ['xs-q'],
        limit: 2,
        leaseMs: 60_000,
        now: Date.now(),
      });
      expect(claimed).toHaveLength(1);
      const other = claimed[0]?.flow.id === 'xs-1' ? 'xs-2' : 'xs-1';
      const { queues, supported } = await call<QueuesPage>('api/queues?queue=xs-q');
      expect(supported).toBe(true);
      expect(queues.find((q) => q.name === 'xs-q')).toMatchObject({
        limits: { concurrency: 1, keyConcurrency: 1, rate: { limit: 9, periodMs: 60_000 } },
        running: 1,
        recentStarts: 1,
        ready: 1,
        keys: [{ key: 'k', running: 1, queued: 1, limit: 1 }],
        waiting: [{ reason: 'queue-concurrency', count: 1 }],
      });
      const detail = await call<FlowDetail>(`api/flow?id=${other}`);
      expect(detail.waitingFor).toMatchObject({
        reason: 'queue-concurrency',
        key: 'k',
        running: 1,
        limit: 1,
      });
    });

    it('lists a schedule, pauses it and runs it now through the API', async () => {
      await client.schedules.create({
        id: 'xs-sched',
        flow: 'xs-type',
        cron: '0 0 1 1 *',
        timezone: 'Asia/Tokyo',
        overlap: 'skip',
        catchup: 'latest',
      });
      const paused = await call<ActionResult>('api/actions/schedule-pause', { id: 'xs-sched' });
      expect(paused.paused).toBe(true);
      expect((await client.schedules.get('xs-sched')).paused).toBe(true);
      const run = await call<ActionResult>('api/actions/schedule-trigger', { id: 'xs-sched' });
      const detail = await call<ScheduleDetail>('api/schedule?id=xs-sched');
      expect(detail).toMatchObject({
        cron: '0 0 1 1 *',
        timezone: 'Asia/Tokyo',
        overlap: 'skip',
        catchup: 'latest',
        paused: true,
      });
      expect(detail.flows.map((f) => [f.id, f.status])).toEqual([[run.id, 'pending']]);
    });
  });
}
