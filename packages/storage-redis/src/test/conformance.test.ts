import { describeExecutionLogConformance } from '@ergon/testing';
import { describe } from 'vitest';
import type { RedisExecutionLog } from '../index.js';
import { disposeStore, openStore, outside, redisAvailable } from './support.js';

// Service guard (support.ts): under CI=true a missing service fails the run; elsewhere this suite is skipped loudly.
describe.skipIf(!redisAvailable)('RedisExecutionLog against the shared Redis', () => {
  describeExecutionLogConformance<RedisExecutionLog>({
    name: 'RedisExecutionLog',
    create: () => openStore(),
    teardown: (store) => disposeStore(store),
    damage: {
      // A history record that is not JSON: before, reading it was STORE_UNAVAILABLE for good.
      history: (store, flowId) =>
        outside((redis) => redis.hset(`{${store.prefix}}:hist:${flowId}`, '0', '{"status":"comp')),
      waits: (store, flowId) =>
        outside((redis) => redis.hset(`{${store.prefix}}:flow:${flowId}`, 'waits', '{not json')),
    },
  });
});
