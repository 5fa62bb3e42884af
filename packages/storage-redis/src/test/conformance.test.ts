import { describeExecutionLogConformance } from '@ergon/testing';
import { describe } from 'vitest';
import type { RedisExecutionLog } from '../index.js';
import { disposeStore, openStore, redisAvailable } from './support.js';

// Service guard (support.ts): under CI=true a missing service fails the run; elsewhere this suite is skipped loudly.
describe.skipIf(!redisAvailable)('RedisExecutionLog against the shared Redis', () => {
  describeExecutionLogConformance<RedisExecutionLog>({
    name: 'RedisExecutionLog',
    create: () => openStore(),
    teardown: (store) => disposeStore(store),
  });
});
