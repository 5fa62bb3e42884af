import { InMemoryExecutionLog } from '@ergon/core';
import { describeExecutionLogConformance } from './index.js';

describeExecutionLogConformance({ name: 'InMemoryExecutionLog', create: () => new InMemoryExecutionLog() });
