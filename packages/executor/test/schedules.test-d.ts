import { InMemoryExecutionLog, type ScheduleCatchup } from '@ergon/core';
import { describe, expectTypeOf, it } from 'vitest';
import { Client, flow, type ScheduleInfo } from '../src/index.js';

const report = flow('report', async (_ctx, input: { readonly n: number }) => input.n * 2);
const client = new Client({ store: new InMemoryExecutionLog() });

describe('schedule types', () => {
  it('takes the input type of the flow, and policies by name', () => {
    expectTypeOf(
      client.schedules.create({ id: 'a', flow: report, cron: '* * * * *', input: { n: 1 } }),
    ).resolves.toEqualTypeOf<ScheduleInfo>();
    // @ts-expect-error the input must fit the flow
    void client.schedules.create({ id: 'b', flow: report, cron: '* * * * *', input: { n: 'one' } });
    // @ts-expect-error not an overlap policy
    void client.schedules.create({ id: 'c', flow: report, cron: '* * * * *', overlap: 'sometimes' });
    expectTypeOf<ScheduleInfo['catchup']>().toEqualTypeOf<ScheduleCatchup>();
    expectTypeOf<ScheduleInfo['nextRunAt']>().toEqualTypeOf<Date | undefined>();
  });
});
