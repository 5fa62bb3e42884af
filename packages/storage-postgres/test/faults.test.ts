/**
 * Connections ended by the server (`pg_terminate_backend`, as an operator or a
 * failover would): calls that may run twice are run again on a new connection,
 * the others fail with STORE_UNAVAILABLE, and the LISTEN connection comes back
 * by itself. Only this test's connections are ended, found by application_name.
 */
import { randomBytes } from 'node:crypto';
import { noopLogger, runtimeStore, type RuntimeExecutionLog, type StoreEvent } from '@ergon/core';
import { eventually } from '@ergon/testing';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresExecutionLog } from '../src/index.js';
import { dropSchema, outside, POSTGRES_URL, postgresAvailable, testSchema } from '../src/test-support.js';

const T0 = Date.UTC(2030, 0, 1);

/** Ends every connection of `application` (the store's pool and its LISTEN connection); how many. */
async function terminate(application: string, where = 'true'): Promise<number> {
  const rows = await outside<{ ended: boolean }>(
    `select pg_terminate_backend(pid) as ended from pg_stat_activity
     where application_name = $1 and pid <> pg_backend_pid() and ${where}`,
    [application],
  );
  return rows.length;
}

describe.skipIf(!postgresAvailable)('connections ended by the server', () => {
  let schema: string;
  let application: string;
  let store: RuntimeExecutionLog;

  beforeEach(async () => {
    schema = testSchema('faults');
    application = `ergon-faults-${randomBytes(4).toString('hex')}`;
    store = runtimeStore(
      await PostgresExecutionLog.open({
        url: POSTGRES_URL,
        schema,
        applicationName: application,
        poolSize: 3,
        logger: noopLogger,
      }),
    );
  });
  afterEach(async () => {
    await store.close();
    await dropSchema(schema);
  });

  const newFlow = (id: string) => ({
    id,
    type: 't',
    queue: 'q',
    input: '[]',
    priority: 0,
    runAt: T0,
    now: T0,
  });

  it('runs repeatable calls again on a new connection when their pooled connections were ended', async () => {
    for (let i = 0; i < 10; i++) {
      await store.getFlow('warm-up');
      expect(await terminate(application)).toBeGreaterThan(0);
      const { created } = await store.createFlow(newFlow(`f${i}`));
      expect(created).toBe(true);
      expect(await store.getFlow(`f${i}`)).toMatchObject({ status: 'pending' });
    }
  });

  it('fails a signal whose connection is ended while it waits with STORE_UNAVAILABLE, and buffers nothing', async () => {
    await store.createFlow(newFlow('locked'));
    const holder = new pg.Client({ connectionString: POSTGRES_URL });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(`select 1 from "${schema}".flows where id = 'locked' for update`);
      const sent = store.sendSignal({ flowId: 'locked', name: 'go', payload: '[1]', now: T0 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      await eventually(async () => (await terminate(application, "wait_event_type = 'Lock'")) > 0, 5000);
      expect(await sent).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await holder.query('rollback');
      expect(await store.getSignals('locked')).toEqual([]);
    } finally {
      await holder.end();
    }
  });

  it('runs a cancel whose connection is ended while it waits again, once the row is free', async () => {
    await store.createFlow(newFlow('cancel-me'));
    const holder = new pg.Client({ connectionString: POSTGRES_URL });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(`select 1 from "${schema}".flows where id = 'cancel-me' for update`);
      const cancelled = store.requestCancel({ flowId: 'cancel-me', error: '["stop"]', now: T0 });
      await eventually(async () => (await terminate(application, "wait_event_type = 'Lock'")) > 0, 5000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await holder.query('rollback');
      expect(await cancelled).toMatchObject({ status: 'cancelled', error: '["stop"]' });
    } finally {
      await holder.end();
    }
  });

  it('listens again after its LISTEN connection is ended, and tells the queues it knows to look', async () => {
    const events: StoreEvent[] = [];
    const stop = store.subscribe?.((event) => events.push(event));
    try {
      await store.createFlow(newFlow('before'));
      await eventually(() => events.some((e) => e.type === 'ready' && e.queue === 'q'));
      events.length = 0;
      await terminate(application, `query ilike 'LISTEN%'`);
      // The catch-up after the reconnect: queue q was heard of before.
      await eventually(() => events.some((e) => e.type === 'ready' && e.queue === 'q'), 5000);
      events.length = 0;
      const other = runtimeStore(await PostgresExecutionLog.open({ url: POSTGRES_URL, schema }));
      try {
        await other.createFlow({ ...newFlow('after'), queue: 'elsewhere' });
        await eventually(() => events.some((e) => e.type === 'ready' && e.queue === 'elsewhere'), 5000);
      } finally {
        await other.close();
      }
    } finally {
      stop?.();
    }
  });
});
