/**
 * The Redis store on a real Redis Cluster (issue #24): 3 masters and 3
 * replicas started from `redis-server` for this benchmark. The same 3-step
 * no-op flows through the same worker processes, with the store's flows in one
 * partition (P = 1: one hash tag, one slot, one master does all the work), in
 * 16 (every master works), and in 16 with `waitForReplicas` (each write
 * acknowledged once a replica has it: the cost of surviving a failover). Per
 * master, over the run (from `go`): CPU seconds (`INFO cpu`) and commands
 * (`INFO commandstats`, admin commands left out).
 *
 * On a machine with fewer cores than processes (the 6 servers and the worker
 * processes share them) the absolute rates say little; the per-master
 * figures show where the work goes.
 *
 * @module
 */
import { Client } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { PrivateRedisCluster } from '@ergon/testing/redis-cluster';
import { Cluster, type Redis } from 'ioredis';
import type { Bench, BenchContext } from '../lib/bench.js';
import { wallNow } from '../lib/clock.js';
import { threeSteps } from '../lib/flows.js';
import { startWorkers, type WorkerProcess } from '../lib/procs.js';
import { makeRow, type Row, type RowName } from '../lib/results.js';
import { drive, pool } from '../lib/runs.js';
import { uniqueName } from '../lib/services.js';

/** A cluster client as the store's README recommends. */
function clusterClient(nodes: readonly { host: string; port: number }[]): Cluster {
  return new Cluster([...nodes], {
    enableAutoPipelining: true,
    redisOptions: { commandTimeout: 10_000, maxRetriesPerRequest: 20 },
  });
}

/** What one master did over a run. */
interface MasterLoad {
  readonly port: number;
  readonly cpuSeconds: number;
  readonly ops: number;
}

const ADMIN = /^(info|config|cluster|ping|command|client|dbsize|scan|select|hello|readonly|auth)$/;

async function masterStats(node: Redis): Promise<{ cpu: number; ops: number }> {
  const [cpu, stats] = [await node.info('cpu'), await node.info('commandstats')];
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(cpu)?.[1] ?? 0);
  let ops = 0;
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!ADMIN.test(match[1] ?? '')) ops += Number(match[2]);
  }
  return { cpu: field('used_cpu_user') + field('used_cpu_sys'), ops };
}

interface Variant {
  readonly name: RowName;
  readonly partitions: number;
  readonly wait: boolean;
}

const VARIANTS: readonly Variant[] = [
  { name: 'cluster-redis-3step-p1', partitions: 1, wait: false },
  { name: 'cluster-redis-3step-p16', partitions: 16, wait: false },
  { name: 'cluster-redis-3step-p16-wait', partitions: 16, wait: true },
];

async function runVariant(
  cluster: PrivateRedisCluster,
  variant: Variant,
  context: BenchContext,
): Promise<Row> {
  const { throughputFlows: n, workers: count, concurrency } = context.sizes;
  const nodes = cluster.startupNodes;
  const prefix = uniqueName(`cl${variant.partitions}${variant.wait ? 'w' : ''}`);
  const client = clusterClient(nodes);
  const waitForReplicas = variant.wait ? { replicas: 1, timeoutMs: 1000 } : undefined;
  const store = await RedisExecutionLog.open({
    redis: client,
    prefix,
    partitions: variant.partitions,
    waitForReplicas,
  });
  let workers: WorkerProcess[] = [];
  try {
    workers = await startWorkers(
      'ergon-worker',
      count,
      (i) => ({
        store: 'redis-cluster',
        clusterNodes: nodes,
        prefix,
        waitForReplicas,
        id: `cl-${i}`,
        concurrency,
      }),
      variant.name,
    );
    const app = new Client({ store });
    const t0 = wallNow();
    await pool(n, 64, (i) => app.schedule(threeSteps, undefined, { flowId: `f-${i}` }));
    const enqueueSeconds = (wallNow() - t0) / 1000;
    const masters = client.nodes('master');
    await Promise.all(masters.map((m) => m.config('RESETSTAT')));
    const before = await Promise.all(masters.map(masterStats));
    const run = await drive(workers, n);
    const after = await Promise.all(masters.map(masterStats));
    const load: MasterLoad[] = masters.map((m, i) => ({
      port: Number(m.options.port),
      cpuSeconds: Number(((after[i]?.cpu ?? 0) - (before[i]?.cpu ?? 0)).toFixed(2)),
      ops: (after[i]?.ops ?? 0) - (before[i]?.ops ?? 0),
    }));
    const share = (values: number[]) => {
      const total = values.reduce((a, b) => a + b, 0) || 1;
      return values.map((v) => Math.round((v / total) * 1000) / 10);
    };
    context.log(
      `  ${variant.name}: ${run.perSecond.toFixed(0)} flows/s (${run.seconds.toFixed(2)} s); per master ` +
        `CPU s ${load.map((l) => l.cpuSeconds).join(' / ')}, ops ${load.map((l) => l.ops).join(' / ')} ` +
        `(% ${share(load.map((l) => l.ops)).join(' / ')})`,
    );
    workers = [];
    return makeRow(variant.name, {
      unit: 'flows/s',
      better: 'higher',
      ergon: run.perSecond,
      extra: {
        size: n,
        workers: count,
        concurrency,
        steps: 3,
        partitions: variant.partitions,
        waitForReplicas: variant.wait,
        seconds: Number(run.seconds.toFixed(3)),
        enqueueSeconds: Number(enqueueSeconds.toFixed(3)),
        workerCpuSeconds: Number((run.workerCpuMs / 1000).toFixed(2)),
        masters: load,
        cpuSharePercent: share(load.map((l) => l.cpuSeconds)),
        opsSharePercent: share(load.map((l) => l.ops)),
      },
    });
  } finally {
    for (const w of workers) w.kill();
    await store.close();
    await Promise.all(
      client.nodes('master').map(async (node) => {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `\\{${prefix}[#}]*`, 'COUNT', 1000);
          cursor = next;
          for (const key of keys) await node.unlink(key);
        } while (cursor !== '0');
      }),
    );
    client.disconnect();
  }
}

export const redisCluster: Bench = {
  id: 'cluster-redis',
  rows: VARIANTS.map((v) => ({ name: v.name, unit: 'flows/s', better: 'higher' as const })),
  run: async (context) => {
    const cluster = await PrivateRedisCluster.start();
    try {
      const rows: Row[] = [];
      for (const variant of VARIANTS) rows.push(await runVariant(cluster, variant, context));
      return rows;
    } finally {
      await cluster.stop();
    }
  },
};
