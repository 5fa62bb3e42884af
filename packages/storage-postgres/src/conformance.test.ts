import { describeExecutionLogConformance } from '@ergon/testing';
import { describe } from 'vitest';
import { PostgresExecutionLog } from './index.js';
import { dropSchema, outside, POSTGRES_URL, postgresAvailable, testSchema } from './test-support.js';

// Each test gets a schema of its own, dropped afterwards.
describe.skipIf(!postgresAvailable)('PostgreSQL', () => {
  describeExecutionLogConformance({
    name: 'PostgresExecutionLog',
    create: () => PostgresExecutionLog.open({ url: POSTGRES_URL, schema: testSchema(), poolSize: 4 }),
    teardown: (store) => dropSchema(store.schema),
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
