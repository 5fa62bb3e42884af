// The conformance suite on a partitioned store (8 partitions) on the shared Redis: the
// partition logic (placement, locations, claims across partitions, admission of limited
// queues, merged listing) without a cluster. The real cluster runs it in cluster.test.ts.
import { describeExecutionLogConformance } from '@ergon/testing';
import type { Redis } from 'ioredis';
import { describe } from 'vitest';
import type { RedisExecutionLog } from '../index.js';
import { disposeStore, openStore, outside, redisAvailable } from './support.js';

// Service guard (support.ts): under CI=true a missing service fails the run; elsewhere this suite is skipped loudly.
describe.skipIf(!redisAvailable)('RedisExecutionLog with 8 partitions on the shared Redis', () => {
  describeExecutionLogConformance<RedisExecutionLog>({
    name: 'RedisExecutionLog (8 partitions)',
    skip: [{ capability: 'handOff', reason: 'parked workers are kept with one partition only' }],
    create: () => openStore({ partitions: 8 }),
    teardown: (store) => disposeStore(store),
    damage: {
      history: async (store, flowId) => {
        const tag = store.partitionTags[await partitionOf(store, flowId)];
        await outside((redis) => redis.hset(`{${tag}}:hist:${flowId}`, '0', '{"status":"comp'));
      },
      waits: async (store, flowId) => {
        const tag = store.partitionTags[await partitionOf(store, flowId)];
        await outside((redis) => redis.hset(`{${tag}}:flow:${flowId}`, 'waits', '{not json'));
      },
    },
  });
});

/** The partition whose tag holds the flow's hash. */
async function partitionOf(store: RedisExecutionLog, flowId: string): Promise<number> {
  let found: number | undefined;
  await outside(async (redis: Redis) => {
    for (const [p, tag] of store.partitionTags.entries())
      if (found === undefined && (await redis.exists(`{${tag}}:flow:${flowId}`)) === 1) found = p;
  });
  if (found === undefined) throw new Error(`flow ${flowId} is in no partition`);
  return found;
}
