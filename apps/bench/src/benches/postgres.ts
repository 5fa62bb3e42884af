import { createRequire } from 'node:module';
import { Client } from '@ergon/executor';
import { PostgresExecutionLog } from '@ergon/storage-postgres';
import type { Bench, BenchContext } from '../lib/bench.js';
import { median, wallNow } from '../lib/clock.js';
import { POSTGRES_URL } from '../lib/config.js';
import { oneStep } from '../lib/flows.js';
import { completion, startWorkers, type WorkerProcess } from '../lib/procs.js';
import { makeRow, type Row } from '../lib/results.js';
import { pool, type RunResult, timedRounds, warmUp } from '../lib/runs.js';
import { dropSchema, pgSchemaName } from '../lib/services.js';
import { measure, type Side } from './step-overhead.js';
import { pgBoss } from './throughput.js';

/** The part of a pg `Client` used here. */
interface PgClient {
  connect(): Promise<unknown>;
  query(config: string | { name?: string; text: string; values?: unknown[] }): Promise<unknown>;
  end(): Promise<void>;
}

/** pg, resolved from the store's own dependencies (the same copy the store runs on). */
export function pgClient(): PgClient {
  const require = createRequire(
    createRequire(import.meta.url).resolve('@ergon/storage-postgres/package.json'),
  );
  const pg = require('pg') as { Client: new (options: { connectionString: string }) => PgClient };
  return new pg.Client({ connectionString: POSTGRES_URL });
}

async function postgresSide(): Promise<Side & { schema: string }> {
  const schema = pgSchemaName();
  const store = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema });
  const raw = pgClient();
  await raw.connect();
  const table = `"${schema}".raw_history`;
  await raw.query(`create table ${table} (flow_id text not null, position bigint not null, key text not null,
    kind text not null, status text not null, attempts integer not null, seq bigint, wake_at bigint,
    started_at bigint not null, finished_at bigint, error text, result text, primary key (flow_id, position))`);
  const text = `insert into ${table} values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`;
  return {
    name: 'postgres',
    schema,
    store,
    raw: async (r, count, round) => {
      const flowId = `raw-${round}`;
      const start = process.hrtime.bigint();
      for (let i = 0; i < count; i++) {
        await raw.query({
          name: 'raw-insert',
          text,
          values: [
            flowId,
            i,
            r.key,
            r.kind,
            r.status,
            r.attempts,
            r.seq ?? null,
            r.wakeAt ?? null,
            r.startedAt,
            r.finishedAt ?? null,
            r.error ?? null,
            r.result ?? null,
          ],
        });
      }
      return Number(process.hrtime.bigint() - start) / 1000 / count;
    },
    close: async () => {
      await store.close();
      await raw.end();
      await dropSchema(schema);
    },
  };
}

/**
 * DBOS Transact's µs per step: 100-step workflows of no-op steps, in this process.
 *
 * pg's "Calling client.query() when the client is already executing a query is deprecated"
 * warning printed during this row is DBOS's (5.3, `system_database.js`): its pool's `connect`
 * hook sends `SET idle_in_transaction_session_timeout` while pg-pool hands the new connection to
 * a query at once. The Ergon store runs no query from a pool hook.
 */
async function dbosStepOverhead(context: BenchContext): Promise<number> {
  const { DBOS } = await import('@dbos-inc/dbos-sdk');
  const schema = pgSchemaName();
  DBOS.setConfig({
    name: 'ergon-bench-steps',
    systemDatabaseUrl: POSTGRES_URL,
    systemDatabaseSchemaName: schema,
    logLevel: 'error',
  });
  const step = DBOS.registerStep(async (i: number) => i, { name: 'noop' });
  const steps = DBOS.registerWorkflow(
    async (n: number) => {
      let total = 0;
      for (let i = 0; i < n; i++) total += await step(i);
      return total;
    },
    { name: 'bench-noop-steps' },
  );
  await DBOS.launch();
  try {
    const { stepFlows, stepsPerFlow, stepRounds } = context.sizes;
    const time = async (flows: number) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < flows; i++) await steps(stepsPerFlow);
      return Number(process.hrtime.bigint() - start) / 1000 / (flows * stepsPerFlow);
    };
    await time(Math.max(2, stepFlows));
    const rounds: number[] = [];
    for (let round = 0; round < Math.max(2, Math.ceil(stepRounds / 3)); round++)
      rounds.push(await time(stepFlows));
    context.log(`  dbos: median ${median(rounds).toFixed(1)} µs/step over ${rounds.length} rounds`);
    return median(rounds);
  } finally {
    await DBOS.shutdown();
    await dropSchema(schema);
  }
}

export const stepOverheadPostgres: Bench = {
  id: 'step-overhead-postgres',
  rows: [{ name: 'step-overhead-postgres', unit: 'µs/step', better: 'lower' }],
  run: async (context): Promise<Row[]> => {
    const side = await postgresSide();
    let m: Awaited<ReturnType<typeof measure>>;
    try {
      m = await measure(side, context);
    } finally {
      await side.close();
    }
    const dbosUs = await dbosStepOverhead(context);
    return [
      makeRow('step-overhead-postgres', {
        unit: 'µs/step',
        better: 'lower',
        ergon: m.ergon,
        peer: 'pg INSERT (named prepared statement, one awaited round trip)',
        peerValue: m.raw,
        extra: {
          size: {
            flows: context.sizes.stepFlows * context.sizes.stepRounds,
            stepsPerFlow: context.sizes.stepsPerFlow,
            rounds: context.sizes.stepRounds,
          },
          ergonMinUs: m.ergonMin,
          peerMinUs: m.rawMin,
          recordBytes: m.recordBytes,
          dbosUsPerStep: Math.round(dbosUs * 10) / 10,
        },
      }),
    ];
  },
};

async function ergonPostgres(context: BenchContext): Promise<RunResult> {
  const { throughputFlows: n, workers: count, concurrency } = context.sizes;
  const schema = pgSchemaName();
  const store = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema });
  let workers: WorkerProcess[] = [];
  try {
    workers = await startWorkers(
      'ergon-worker',
      count,
      (i) => ({ store: 'postgres', postgresUrl: POSTGRES_URL, schema, id: `tp-${i}`, concurrency }),
      'ergon-postgres',
    );
    const client = new Client({ store });
    const enqueue = (tag: string, count: number) =>
      pool(count, 64, (i) => client.schedule(oneStep, undefined, { flowId: `${tag}-${i}` }));
    const coldPerSecond = await warmUp(workers, context.sizes.throughputWarmup, (count) =>
      enqueue('w', count),
    );
    const run = await timedRounds(workers, context.sizes.throughputRounds, n, (round) =>
      enqueue(`f${round}`, n),
    );
    return { ...run, coldPerSecond };
  } finally {
    for (const w of workers) w.kill();
    await store.close();
    await dropSchema(schema);
  }
}

/**
 * DBOS Transact: every workflow enqueued first (DBOSClient), then the workers launch; the
 * rate counts from the moment every worker has launched (launch itself excluded; workflows
 * a worker finishes while the other still launches count for DBOS: that flatters the peer).
 */
async function dbos(context: BenchContext): Promise<RunResult> {
  const { DBOS, DBOSClient } = await import('@dbos-inc/dbos-sdk');
  const { throughputFlows: n, workers: count, concurrency } = context.sizes;
  const schema = pgSchemaName();
  const queue = 'tp';
  let workers: WorkerProcess[] = [];
  await DBOS.migrate(POSTGRES_URL, { schemaName: schema });
  const client = await DBOSClient.create({
    systemDatabaseUrl: POSTGRES_URL,
    systemDatabaseSchemaName: schema,
  });
  try {
    await client.registerQueue(queue, { workerConcurrency: concurrency, minPollingIntervalMs: 10 });
    const t0 = wallNow();
    await pool(n, 64, (i) =>
      client.enqueue({ queueName: queue, workflowName: 'bench-one-step', workflowID: `f-${i}` }),
    );
    const enqueueSeconds = (wallNow() - t0) / 1000;
    workers = await startWorkers('dbos-worker', count, () => ({ postgresUrl: POSTGRES_URL, schema }), 'dbos');
    const done = completion(workers, n, 120_000 + n * 20);
    const launched = Promise.all(
      workers.map((w) =>
        w.waitFor((m) => m.type === 'launched', 60_000, 'DBOS launch').then((m) => m.at as number),
      ),
    );
    for (const w of workers) w.send({ type: 'go' });
    const start = Math.max(...(await launched));
    const end = await done;
    const finals = await Promise.all(workers.map((w) => w.stop()));
    const seconds = (end - start) / 1000;
    const workerCpuMs = finals.reduce((sum, f) => sum + Number(f?.cpuMs ?? 0), 0);
    return { perSecond: n / seconds, seconds, workerCpuMs, enqueueSeconds };
  } finally {
    for (const w of workers) w.kill();
    await client.destroy();
    await dropSchema(schema);
  }
}

function describeRun(r: RunResult) {
  return {
    perSecond: Math.round(r.perSecond),
    seconds: Number(r.seconds.toFixed(3)),
    enqueueSeconds: Number(r.enqueueSeconds.toFixed(3)),
    workerCpuSeconds: Number((r.workerCpuMs / 1000).toFixed(2)),
    coldPerSecond: r.coldPerSecond === undefined ? undefined : Math.round(r.coldPerSecond),
    rounds: r.rounds,
  };
}

export const throughputPostgres: Bench = {
  id: 'throughput-postgres-1step',
  rows: [{ name: 'throughput-postgres-1step', unit: 'flows/s', better: 'higher' }],
  run: async (context): Promise<Row[]> => {
    const ergon = await ergonPostgres(context);
    const peer = await dbos(context);
    const boss = await pgBoss(context);
    context.log(
      `  throughput-postgres-1step: ergon ${ergon.perSecond.toFixed(0)}/s, dbos ${peer.perSecond.toFixed(0)}/s, ` +
        `pg-boss ${boss.perSecond.toFixed(0)}/s`,
    );
    return [
      makeRow('throughput-postgres-1step', {
        unit: 'flows/s',
        better: 'higher',
        ergon: ergon.perSecond,
        peer: 'DBOS Transact (queue, 2 worker processes)',
        peerValue: peer.perSecond,
        extra: {
          size: context.sizes.throughputFlows,
          workers: context.sizes.workers,
          concurrency: context.sizes.concurrency,
          pgBossPerSecond: Math.round(boss.perSecond),
          ergonRun: describeRun(ergon),
          peerRun: describeRun(peer),
          pgBossRun: describeRun(boss),
        },
      }),
    ];
  },
};
