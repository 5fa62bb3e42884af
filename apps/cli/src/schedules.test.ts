// `ergon schedules …` through the real built binary, on a temporary SQLite store served by a
// real `ergon worker`: refused configurations, create, list and get with next fire times, the
// worker starting one flow per tick, pause, resume, update and delete.
import { describe, expect, it } from 'vitest';
import { eventually, json } from './testing/cli.js';
import { useWorkerStore } from './testing/worker-store.js';

const { cli } = useWorkerStore(['--concurrency', '4']);

interface ScheduleJson {
  id: string;
  flowType: string;
  cron: string;
  timezone: string;
  input: unknown;
  overlap: string;
  catchup: string | number;
  paused: boolean;
  nextRunAt?: string;
  upcoming: string[];
  lastFlowId?: string;
}

describe('ergon schedules', () => {
  it('refuses a cron expression that never fires, bad syntax, an unknown zone or type, with exit code 2', async () => {
    for (const args of [
      ['never', 'double', '--cron', '0 0 30 2 *'],
      ['bad-syntax', 'double', '--cron', 'every minute'],
      ['bad-zone', 'double', '--cron', '* * * * *', '--timezone', 'Nowhere/Special'],
      ['bad-type', 'no-such-flow', '--cron', '* * * * *'],
    ]) {
      const run = await cli('schedules', 'create', ...args);
      expect(run.code, run.stdout).toBe(2);
      expect(run.stderr).toContain('[INVALID_SCHEDULE]');
    }
    const badCatchup = await cli(
      'schedules',
      'create',
      'c',
      'double',
      '--cron',
      '* * * * *',
      '--catchup',
      '0',
    );
    expect(badCatchup.code).toBe(2);
    const listed = json<{ schedules: unknown[] }>(await cli('--json', 'schedules', 'list'));
    expect(listed.schedules).toEqual([]);
  });

  it('creates a schedule the worker fires every second: one flow per tick, each run to the end', async () => {
    const created = await cli(
      'schedules',
      'create',
      'doubler',
      'double',
      '--cron',
      '* * * * * *',
      '--input',
      '{"n":21}',
      '--overlap',
      'allow',
      '--catchup',
      '5',
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created schedule doubler: double at "\* \* \* \* \* \*" \(UTC\); next /);

    const listed = json<{ schedules: ScheduleJson[] }>(await cli('--json', 'schedules', 'list'));
    expect(listed.schedules.map((s) => [s.id, s.flowType, s.overlap, s.catchup])).toEqual([
      ['doubler', 'double', 'allow', 5],
    ]);
    expect(listed.schedules[0]?.upcoming).toHaveLength(5);

    // The worker looks at the schedules every few seconds, then fires each tick.
    const flows = await eventually(async () => {
      const page = json<{ flows: { id: string; status: string }[] }>(
        await cli('--json', 'flows', 'list', '--type', 'double', '--status', 'completed'),
      );
      const ticks = page.flows.filter((f) => f.id.startsWith('doubler@'));
      return ticks.length >= 2 ? ticks : undefined;
    }, 25_000);
    const ids = flows.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^doubler@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    const shown = json<{ result: unknown }>(await cli('--json', 'flows', 'show', ids[0] ?? ''));
    expect(shown.result).toBe(42);

    const text = await cli('schedules', 'get', 'doubler');
    expect(text.stdout).toContain('cron       * * * * * * (UTC)');
    expect(text.stdout).toMatch(/last flow {2}doubler@/);
  }, 40_000);

  it('pauses, resumes, updates and deletes', async () => {
    await cli('schedules', 'create', 'daily', 'double', '--cron', '0 6 * * *', '--input', '{"n":1}');
    const paused = json<ScheduleJson>(await cli('--json', 'schedules', 'pause', 'daily'));
    expect(paused.paused).toBe(true);
    expect(paused.nextRunAt).toBeUndefined();
    expect((await cli('schedules', 'get', 'daily')).stdout).toContain('state      paused');
    const resumed = json<ScheduleJson>(await cli('--json', 'schedules', 'resume', 'daily'));
    expect(resumed.paused).toBe(false);
    expect(resumed.nextRunAt).toMatch(/T06:00:00\.000Z$/);
    const updated = json<ScheduleJson>(
      await cli(
        '--json',
        'schedules',
        'update',
        'daily',
        '--cron',
        '0 6 * * *',
        '--timezone',
        'Asia/Tokyo',
        '--input',
        '{"n":5}',
      ),
    );
    // 06:00 in Tokyo is 21:00 UTC the day before.
    expect(updated.nextRunAt).toMatch(/T21:00:00\.000Z$/);
    expect(updated.input).toEqual({ n: 5 });
    const refused = await cli('schedules', 'update', 'daily', '--cron', '0 0 31 2 *');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('never fires');
    expect((await cli('schedules', 'delete', 'daily')).code).toBe(0);
    const gone = await cli('schedules', 'get', 'daily');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('[SCHEDULE_NOT_FOUND]');
  });
});
