/**
 * The store on a real Redis Cluster: 3 masters and 3 replicas started from
 * `redis-server` for this file (one cluster for every test here). The
 * conformance suite with the default partitions of a Cluster client (16); how
 * keys and operations spread over the masters (INFO commandstats and the keys
 * per master, ±15%); and writes acknowledged only once a replica has them.
 */
import { randomUUID } from 'node:crypto';
import { noopLogger } from '@ergon/core';
import { describeExecutionLogConformance, PrivateRedisCluster } from '@ergon/testing';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisExecutionLog } from '../index.js';
import {
  clusterAvailable,
  clusterClient,
  deleteClusterPrefix,
  keysPerMaster,
  onMasters,
} from './cluster-support.js';
import { randomPrefix } from './support.js';

const T0 = Date.UTC(2030, 0, 1);

/** Calls of every command per master since the last CONFIG RESETSTAT, admin commands left out. */
async function opsPerMaster(client: Cluster): Promise<number[]> {
  const admin = /^(info|config|cluster|ping|command|client|dbsize|scan|select|hello|readonly|wait|auth)$/;
  return onMasters(client, async (node) => {
    const text = await node.info('commandstats');
    let calls = 0;
    for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (!admin.test(match[1] ?? '')) calls += Number(match[2]);
    }
    return calls;
  });
}

/** CPU seconds (user + sys) each master has used. */
async function cpuPerMaster(client: Cluster): Promise<number[]> {
  return onMasters(client, async (node) => {
    const text = await node.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
    return field('used_cpu_user') + field('used_cpu_sys');
  });
}

/** Each value's distance from the mean, as a fraction of it. */
function deviations(values: readonly number[]): number[] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.map((v) => v / mean - 1);
}

/** `n` flows of 3 steps through the store: created, claimed by 8 claimers, 3 records, finished. */
async function workload(store: RedisExecutionLog, n: number, label: string): Promise<void> {
  const ids = Array.from({ length: n }, (_, i) => `${label}-${i}`);
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      ids
        .slice(i, i + 100)
        .map((id) =>
          store.createFlow({ id, type: 'spread', queue: 'q', input: '[]', priority: 0, runAt: T0, now: T0 }),
        ),
    );
  }
  let done = 0;
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      while (done < n) {
        const claimed = await store.claim({
          workerId: `w${w}`,
          types: ['spread'],
          queues: ['q'],
          limit: 16,
          leaseMs: 60_000,
          now: T0,
        });
        if (claimed.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        await Promise.all(
          claimed.map(async ({ flow, token }) => {
            for (let position = 0; position < 3; position++) {
              await store.recordOperation({
                flowId: flow.id,
                token,
                record: {
                  flowId: flow.id,
                  position,
                  key: `step-${position}#0`,
                  kind: 'step',
                  status: 'completed',
                  attempts: 1,
                  result: `[${position}]`,
                  startedAt: T0,
                  finishedAt: T0,
                },
              });
            }
            await store.finishFlow({ flowId: flow.id, token, status: 'completed', result: '[3]', now: T0 });
            done++;
          }),
        );
      }
    }),
  );
}

// Under CI=true missing redis-server / redis-cli fail the run; elsewhere the suite is skipped loudly.
describe.skipIf(!clusterAvailable)('RedisExecutionLog on a Redis Cluster (3 masters, 3 replicas)', () => {
  let cluster: PrivateRedisCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start();
    client = clusterClient(cluster);
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  describeExecutionLogConformance<RedisExecutionLog>({
    name: 'RedisExecutionLog on a Redis Cluster (16 partitions, the default on a Cluster client)',
    skip: [{ capability: 'handOff', reason: 'parked workers are kept with one partition only' }],
    create: () =>
      RedisExecutionLog.open({ redis: client, prefix: randomPrefix('cluster'), logger: noopLogger }),
    teardown: (store) => deleteClusterPrefix(client, store.prefix),
    damage: {
      history: async (store, flowId) => {
        await client.hset(`{${await tagOf(store, flowId)}}:hist:${flowId}`, '0', '{"status":"comp');
      },
      waits: async (store, flowId) => {
        await client.hset(`{${await tagOf(store, flowId)}}:flow:${flowId}`, 'waits', '{not json');
      },
    },
  });

  /** The tag of the partition holding the flow. */
  async function tagOf(store: RedisExecutionLog, flowId: string): Promise<string> {
    for (const tag of store.partitionTags)
      if ((await client.exists(`{${tag}}:flow:${flowId}`)) === 1) return tag;
    throw new Error(`flow ${flowId} is in no partition`);
  }

  it('spreads keys and operations over the three masters within ±15% (24 partitions: 8 per master)', async () => {
    for (const partitions of [24, 16]) {
      const prefix = `spread-${partitions}-${randomUUID().slice(0, 8)}`;
      const store = await RedisExecutionLog.open({ redis: client, prefix, partitions, logger: noopLogger });
      try {
        await onMasters(client, (node) => node.config('RESETSTAT'));
        const cpuBefore = await cpuPerMaster(client);
        await workload(store, 2000, prefix);
        const ops = await opsPerMaster(client);
        const cpu = (await cpuPerMaster(client)).map((c, i) => c - (cpuBefore[i] ?? 0));
        const keys = await keysPerMaster(client, prefix);
        const percent = (values: number[]) =>
          deviations(values)
            .map((d) => `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)}%`)
            .join(' ');
        console.log(
          `[cluster spread, P=${partitions}] keys per master ${keys.join(' / ')} (${percent(keys)}); ` +
            `ops per master ${ops.join(' / ')} (${percent(ops)}); ` +
            `CPU s per master ${cpu.map((c) => c.toFixed(2)).join(' / ')}`,
        );
        expect(keys).toHaveLength(3);
        if (partitions === 24) {
          for (const d of [...deviations(keys), ...deviations(ops)])
            expect(Math.abs(d)).toBeLessThanOrEqual(0.15);
        }
      } finally {
        await store.close();
        await deleteClusterPrefix(client, prefix);
      }
    }
  }, 120_000);

  it('acknowledges writes once a replica has them (waitForReplicas), and fails a write no replica confirms', async () => {
    const prefix = randomPrefix('wait');
    const store = await RedisExecutionLog.open({
      redis: client,
      prefix,
      logger: noopLogger,
      waitForReplicas: { replicas: 1, timeoutMs: 2000 },
    });
    const greedy = await RedisExecutionLog.open({
      redis: client,
      prefix,
      logger: noopLogger,
      waitForReplicas: { replicas: 2, timeoutMs: 50 },
    });
    try {
      const flow = { type: 't', queue: 'q', input: '[]', priority: 0, runAt: T0, now: T0 };
      expect((await store.createFlow({ ...flow, id: 'acked' })).created).toBe(true);
      const [claimed] = await store.claim({
        workerId: 'w',
        types: ['t'],
        queues: ['q'],
        limit: 1,
        leaseMs: 60_000,
        now: T0,
      });
      if (!claimed) throw new Error('nothing claimed');
      await store.finishFlow({ flowId: 'acked', token: claimed.token, status: 'completed', now: T0 });
      expect(await store.getFlow('acked')).toMatchObject({ status: 'completed' });
      // One replica per master: a write waiting for two is not acknowledged, though it ran.
      await expect(greedy.createFlow({ ...flow, id: 'unconfirmed' })).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
        message: expect.stringContaining('waitForReplicas'),
      });
      expect(await store.getFlow('unconfirmed')).toMatchObject({ status: 'pending' });
    } finally {
      await store.close();
      await greedy.close();
      await deleteClusterPrefix(client, prefix);
    }
  });

  it('runs a prefix of one partition (the single-slot layout) on the cluster too', async () => {
    const prefix = randomPrefix('one');
    const store = await RedisExecutionLog.open({ redis: client, prefix, partitions: 1, logger: noopLogger });
    try {
      expect(store.partitionTags).toEqual([prefix]);
      await store.createFlow({
        id: 'a',
        type: 't',
        queue: 'q',
        input: '[]',
        priority: 0,
        runAt: T0,
        now: T0,
      });
      expect(await client.exists(`{${prefix}}:flow:a`)).toBe(1);
    } finally {
      await store.close();
      await deleteClusterPrefix(client, prefix);
    }
  });
});
