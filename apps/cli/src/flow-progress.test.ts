// `flows show` prints a flow's progress: a bar for values that say how far
// along the flow is, the value itself otherwise, and both in --json.
import { join } from 'node:path';
import { defaultCodec, runtimeStore } from '@ergon/core';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressLines } from './flow-progress.js';
import { ergon, json, tempDir } from './testing/cli.js';

describe('progressLines', () => {
  it('draws a bar for a fraction or counts, and keeps the value beside it', () => {
    expect(progressLines(0.5, 'ascii')).toEqual(['[##########----------] 50%']);
    expect(progressLines({ done: 3, total: 4, phase: 'copy' }, 'unicode')).toEqual([
      '[███████████████░░░░░] 3 / 4 (75%)',
      '{"done":3,"total":4,"phase":"copy"}',
    ]);
    expect(progressLines('loading\u001b[31m', 'ascii')).toEqual(['"loading\\u001b[31m"']);
    expect(progressLines(7, 'ascii')).toEqual(['7']);
  });
});

let path = '';
let remove = () => {};
const ids = { counted: '', phase: '', quiet: '' };

beforeAll(async () => {
  const tmp = tempDir('ergon-cli-progress-');
  remove = tmp.remove;
  path = join(tmp.dir, 'store.db');
  const store = runtimeStore(await SqliteExecutionLog.open({ path }));
  try {
    const client = new Client({ store });
    for (const name of Object.keys(ids) as (keyof typeof ids)[]) {
      ids[name] = (await client.schedule(`cli-${name}`, {})).id;
    }
    // What a worker's ctx.progress writes, written here under a claim of each flow.
    const report = async (name: 'counted' | 'phase', value: unknown) => {
      const [claimed] = await store.claim({
        workerId: 'w',
        types: [`cli-${name}`],
        queues: ['default'],
        limit: 1,
        leaseMs: 60_000,
        now: Date.now(),
      });
      if (!claimed) throw new Error(`flow ${name} not claimable`);
      await store.setProgress({
        flowId: ids[name],
        token: claimed.token,
        progress: defaultCodec.encode(value),
        now: Date.now(),
      });
    };
    await report('counted', { current: 3, total: 4 });
    await report('phase', 'copying files');
  } finally {
    await store.close();
  }
});
afterAll(() => remove());

describe('flows show', () => {
  it('prints the progress with a bar, when it was reported, and the value', async () => {
    const run = await ergon(['--store', `sqlite:${path}`, 'flows', 'show', ids.counted, '--ascii']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /\n {2}progress +\[###############-----\] 3 \/ 4 \(75%\) {2}\(reported .* ago\)\n/,
    );
    expect(run.stdout).toMatch(/\n {12}\{"current":3,"total":4\}\n/);
    const phase = await ergon(['--store', `sqlite:${path}`, 'flows', 'show', ids.phase]);
    expect(phase.stdout).toMatch(/\n {2}progress +"copying files" {2}\(reported /);
    const quiet = await ergon(['--store', `sqlite:${path}`, 'flows', 'show', ids.quiet]);
    expect(quiet.stdout).not.toMatch(/progress/);
  });

  it('gives the progress and its time in --json, for show and list', async () => {
    const shown = json<{ progress: unknown; progressAt: string }>(
      await ergon(['--store', `sqlite:${path}`, '--json', 'flows', 'show', ids.counted]),
    );
    expect(shown.progress).toEqual({ current: 3, total: 4 });
    expect(Date.parse(shown.progressAt)).toBeGreaterThan(0);
    const listed = json<{ flows: { id: string; progress?: unknown }[] }>(
      await ergon(['--store', `sqlite:${path}`, '--json', 'flows', 'list']),
    );
    expect(listed.flows.find((f) => f.id === ids.phase)?.progress).toBe('copying files');
  });
});
