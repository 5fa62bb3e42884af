/**
 * The PostgreSQL store's idle latency: enqueue → step start, one flow at a time
 * after an idle gap, the worker in its own process woken by LISTEN/NOTIFY, in a
 * schema of its own dropped afterwards; beside it, the floor of any durable
 * queue on the same server (two commits, each waiting for its WAL flush).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@ergon/executor';
import { PostgresExecutionLog } from '@ergon/storage-postgres';
import type { Bench, BenchContext } from '../lib/bench.js';
import { percentile, sleep, wallNow } from '../lib/clock.js';
import { POSTGRES_URL } from '../lib/config.js';
import { probe } from '../lib/flows.js';
import { WorkerProcess } from '../lib/procs.js';
import { makeRow, type Row } from '../lib/results.js';
import { dropSchema, pgSchemaName } from '../lib/services.js';
import { pgClient } from './postgres.js';

async function latency(context: BenchContext) {
  const { latencySamples, latencyGapMs } = context.sizes;
  const schema = pgSchemaName();
  const store = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema });
  let worker: WorkerProcess | undefined;
  try {
    worker = await WorkerProcess.start(
      'ergon-worker',
      {
        store: 'postgres',
        postgresUrl: POSTGRES_URL,
        schema,
        id: 'latency',
        concurrency: context.sizes.concurrency,
      },
      'ergon-postgres-latency',
    );
    worker.send({ type: 'go' });
    await sleep(200);
    const client = new Client({ store });
    // The floor of any durable queue on this server: the enqueue and the claim each commit
    // once, and a commit waits for its WAL flush. Measured here, between the probes.
    const raw = pgClient();
    await raw.connect();
    const table = `"${schema}".raw_commits`;
    await raw.query(`create table ${table} (id bigint primary key, state text not null)`);
    const floor: number[] = [];
    const out: number[] = [];
    for (let id = 0; id < latencySamples + 5; id++) {
      // Jittered idle gap so the probe does not phase-lock with any poll.
      await sleep(latencyGapMs + Math.random() * latencyGapMs);
      const wp = worker;
      const seen = wp
        .waitFor((m) => m.type === 'started' && m.id === id, 10_000, `start of probe ${id}`)
        .then((m) => m.at as number);
      const t0 = wallNow();
      await client.schedule(probe, { id }, { flowId: `probe-${randomUUID()}` });
      const at = await seen;
      if (id >= 5) out.push(at - t0);
      await sleep(latencyGapMs / 2);
      const f0 = wallNow();
      await raw.query({ text: `insert into ${table} values ($1, 'pending')`, values: [id] });
      await raw.query({ text: `update ${table} set state = 'running' where id = $1`, values: [id] });
      if (id >= 5) floor.push(wallNow() - f0);
    }
    await raw.end();
    return {
      p50: percentile(out, 0.5),
      p99: percentile(out, 0.99),
      max: Math.max(...out),
      floorP50: percentile(floor, 0.5),
      floorP99: percentile(floor, 0.99),
    };
  } finally {
    worker?.kill();
    await store.close();
    await dropSchema(schema);
  }
}

export const latencyPostgres: Bench = {
  id: 'latency-idle-postgres',
  rows: [
    { name: 'latency-idle-postgres-p50', unit: 'ms', better: 'lower' },
    { name: 'latency-idle-postgres-p99', unit: 'ms', better: 'lower' },
  ],
  run: async (context): Promise<Row[]> => {
    const m = await latency(context);
    context.log(
      `  worker process: p50 ${m.p50.toFixed(3)} p99 ${m.p99.toFixed(3)} ms; ` +
        `two durable commits: p50 ${m.floorP50.toFixed(3)} p99 ${m.floorP99.toFixed(3)} ms`,
    );
    const extra = {
      size: context.sizes.latencySamples,
      idleGapMs: [context.sizes.latencyGapMs, context.sizes.latencyGapMs * 2],
      workers: 1,
      setup: 'worker in a separate process; LISTEN/NOTIFY wake-up',
      maxMs: m.max,
    };
    const peer = 'two durable commits (raw pg INSERT, then UPDATE): the floor of enqueue + claim';
    return [
      makeRow('latency-idle-postgres-p50', {
        unit: 'ms',
        better: 'lower',
        ergon: m.p50,
        peer,
        peerValue: m.floorP50,
        extra,
      }),
      makeRow('latency-idle-postgres-p99', {
        unit: 'ms',
        better: 'lower',
        ergon: m.p99,
        peer,
        peerValue: m.floorP99,
        extra,
      }),
    ];
  },
};
