import { describeExecutionLogConformance } from '@ergon/testing';
import { afterAll, describe } from 'vitest';
import { PostgresExecutionLog } from './index.js';
import { outside, POSTGRES_URL, postgresAvailable, reusedSchemas } from './test-support.js';

// Each test gets a schema of its own, emptied afterwards for a later test; all dropped at the end.
const schemas = reusedSchemas('conf');
afterAll(() => schemas.drain());

describe.skipIf(!postgresAvailable)('PostgreSQL', () => {
  describeExecutionLogConformance({
    name: 'PostgresExecutionLog',
    create: () => PostgresExecutionLog.open({ url: POSTGRES_URL, schema: schemas.acquire(), poolSize: 4 }),
    teardown: (store) => schemas.release(store.schema),
    damage: {
      // A record of an unknown kind: what a bad edit leaves behind (the column types hold the rest).
      history: async (store, flowId) => {
        await outside(`update "${store.schema}".history set kind = 'teleport' where flow_id = $1`, [flowId]);
      },
      waits: async (store, flowId) => {
        await outside(`update "${store.schema}".flows set waits = '{"not":"a list"}' where id = $1`, [
          flowId,
        ]);
      },
    },
  });
});
