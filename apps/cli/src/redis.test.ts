// The CLI on a Redis store (ERGON_REDIS_URL, default redis://127.0.0.1:6379),
// under a prefix of its own: schedule, list, show, cancel, purge.
import { randomUUID } from 'node:crypto';
import { requireService } from '@ergon/testing';
import { describe, expect, it } from 'vitest';
import { ergon, FIXTURE, json } from './testing/cli.js';

const url = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';
// Under CI=true a missing Redis fails here; elsewhere the suite is skipped loudly.
const { available } = await requireService('Redis', url);
const prefix = `cli-test-${randomUUID().slice(0, 8)}`;
const cli = (...args: string[]) => ergon(['--store', url, '--prefix', prefix, ...args]);

describe.runIf(available)('on Redis', () => {
  it('schedules, lists, shows, cancels and purges', async () => {
    const scheduled = await cli(
      '--json',
      'schedule',
      FIXTURE,
      'await-approval',
      '--input',
      '{"order":"r"}',
      '--id',
      'r-1',
    );
    expect(scheduled.code, scheduled.stderr).toBe(0);
    expect(json(scheduled)).toMatchObject({ id: 'r-1', created: true, status: 'pending' });

    const listed = json<{ flows: { id: string; status: string }[] }>(await cli('--json', 'flows', 'list'));
    expect(listed.flows).toEqual([expect.objectContaining({ id: 'r-1', status: 'pending' })]);
    expect((await cli('flows', 'show', 'r-1')).stdout).toMatch(/^flow r-1\n {2}type +await-approval\n/);

    expect(json(await cli('--json', 'cancel', 'r-1'))).toMatchObject({ status: 'cancelled' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(json(await cli('--json', 'purge', '--older-than', '1ms'))).toEqual({
      purged: 1,
      olderThan: '1ms',
    });
    expect(json(await cli('--json', 'flows', 'list'))).toEqual({ flows: [] });
  });

  it('refuses --prefix on SQLite', async () => {
    const run = await ergon(['--store', 'sqlite:./x.db', '--prefix', 'p', 'flows', 'list']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: --prefix applies to Redis stores only\n');
  });
});
