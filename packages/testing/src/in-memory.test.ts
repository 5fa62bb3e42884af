import { InMemoryExecutionLog } from '@ergon/core';
import { describeExecutionLogConformance } from './index.js';

describeExecutionLogConformance({
  name: 'InMemoryExecutionLog',
  skip: [
    {
      capability: 'handOff',
      reason: 'one process: a worker wakes from an in-process event, no round trip to save',
    },
  ],
  create: () => new InMemoryExecutionLog(),
  damage: { skip: 'values live in process memory, never at rest where they could be damaged' },
});
