import { InMemoryExecutionLog } from '@ergon/core';
import { describeExecutionLogConformance } from './index.js';

describeExecutionLogConformance({
  name: 'InMemoryExecutionLog',
  create: () => new InMemoryExecutionLog(),
  damage: { skip: 'values live in process memory, never at rest where they could be damaged' },
});
