// A real `ergon worker` on a temporary SQLite store, driven by the real CLI:
// schedule, signal, cancel, retry, wait, drain, purge.
import { describe, expect, it } from 'vitest';
import { eventually, FIXTURE, json, startWorker } from './testing/cli.js';
import { useWorkerStore } from './testing/worker-store.js';

// The store is created by the worker (a create-access command).
const suite = useWorkerStore(['--concurrency', '4']);
const { cli } = suite;

interface ShowJson {
  status: string;
  waits: { kind: string; name?: string }[];
  signals: { name: string }[];
  result?: unknown;
}

const show = async (id: string) => json<ShowJson>(await cli('--json', 'flows', 'show', id));
const suspendedOnApproval = (id: string) =>
  eventually(async () => {
    const info = await show(id);
    return info.status === 'suspended' && info.waits.some((w) => w.name === 'approve') ? info : undefined;
  });

describe('signal', () => {
  it('unblocks a flow waiting for it', async () => {
    const scheduled = await cli(
      'schedule',
      FIXTURE,
      'await-approval',
      '--input',
      '{"order":"o-1"}',
      '--id',
      'sig-1',
    );
    expect(scheduled.code, scheduled.stderr).toBe(0);
    expect(scheduled.stdout).toBe('scheduled await-approval flow sig-1 on queue default\n');

    const waiting = await suspendedOnApproval('sig-1');
    expect(waiting.waits).toEqual([{ kind: 'signal', name: 'approve', position: 0 }]);
    const text = await cli('flows', 'show', 'sig-1');
    expect(text.stdout).toMatch(/pending waits\n {2}signal 'approve', position 0/);

    const sent = await cli('signal', 'sig-1', 'approve', '--payload', '{"by":"maria"}');
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toBe("signal 'approve' sent to flow sig-1\n");

    const waited = await cli('--json', 'flows', 'wait', 'sig-1', '--timeout', '20s');
    expect(waited.code, waited.stderr).toBe(0);
    expect(json(waited)).toMatchObject({
      flows: [{ id: 'sig-1', status: 'completed', result: { order: 'o-1', approvedBy: 'maria' } }],
      counts: { completed: 1 },
    });
    expect(suite.worker?.stdout()).toMatch(/"flowId":"sig-1","status":"completed"/);
  });

  it('is buffered until the flow waits, and shown as such', async () => {
    await cli(
      'schedule',
      FIXTURE,
      'await-approval',
      '--input',
      '{"order":"o-2"}',
      '--id',
      'sig-2',
      '--delay',
      '1h',
    );
    const sent = await cli('--json', 'signal', 'sig-2', 'approve', '--payload', '{"by":"early"}');
    expect(json(sent)).toEqual({ id: 'sig-2', signal: 'approve', sent: true });
    const info = await show('sig-2');
    expect(info.status).toBe('pending');
    expect(info.signals).toEqual([{ name: 'approve', sentAt: expect.any(String) }]);
    expect((await cli('flows', 'show', 'sig-2')).stdout).toMatch(/buffered signals\n {2}approve \(sent /);
    expect((await cli('cancel', 'sig-2')).code).toBe(0);
  });
});

describe('cancel', () => {
  it('cancels a suspended flow, once', async () => {
    await cli('schedule', FIXTURE, 'await-approval', '--input', '{"order":"o-3"}', '--id', 'can-1');
    await suspendedOnApproval('can-1');
    const cancelled = await cli('--json', 'cancel', 'can-1', '--reason', 'customer changed their mind');
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(json(cancelled)).toMatchObject({ id: 'can-1', previousStatus: 'suspended', status: 'cancelled' });
    expect((await show('can-1')).status).toBe('cancelled');

    const again = await cli('cancel', 'can-1');
    expect(again).toMatchObject({ code: 0, stdout: 'flow can-1 was already cancelled\n' });

    const waited = await cli('flows', 'wait', 'can-1');
    expect(waited.code).toBe(3);
    expect(waited.stdout).toMatch(/^flow can-1 cancelled: FlowCancelledError.*customer changed their mind/);
  });

  it('refuses a completed flow', async () => {
    await cli('schedule', FIXTURE, 'double', '--input', '{"n":1}', '--id', 'can-2', '--wait');
    const run = await cli('cancel', 'can-2');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('error: cannot cancel: flow "can-2" is already completed [FLOW_FINISHED]\n');
  });
});

describe('retry', () => {
  it('schedules a failed flow again as <id>.retry-<n>', async () => {
    const failed = await cli(
      'schedule',
      FIXTURE,
      'always-fails',
      '--input',
      '{"reason":"r"}',
      '--id',
      'ret-1',
      '--wait',
    );
    expect(failed.code).toBe(3);
    expect(failed.stdout).toContain(
      'flow ret-1 failed: NonRetryableError [NON_RETRYABLE]: failed on purpose: r',
    );

    const first = await cli('retry', 'ret-1');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('ret-1.retry-1\n');
    const second = json(await cli('--json', 'retry', 'ret-1'));
    expect(second).toEqual({
      id: 'ret-1.retry-2',
      retryOf: 'ret-1',
      previousStatus: 'failed',
      type: 'always-fails',
      queue: 'default',
    });
    // Same type and input: it fails the same way.
    const waited = json(await cli('--json', 'flows', 'wait', 'ret-1.retry-1', 'ret-1.retry-2'));
    expect(waited).toMatchObject({ counts: { failed: 2 } });
    expect((await cli('retry', 'ret-1.retry-1')).stdout).toBe('ret-1.retry-3\n');
  });

  it('refuses a flow that did not fail', async () => {
    await cli('schedule', FIXTURE, 'double', '--input', '{"n":2}', '--id', 'ret-2', '--wait');
    const run = await cli('retry', 'ret-2');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'error: cannot retry flow ret-2: it is completed; only failed or cancelled flows can be retried\n',
    );
  });
});

describe('schedule', () => {
  it('runs a decorated class, many at once, and waits for all', async () => {
    const run = await cli(
      '--json',
      'schedule',
      FIXTURE,
      'greet',
      '--input',
      '{"name":"cli"}',
      '--count',
      '5',
      '--id',
      'greet',
      '--wait',
    );
    expect(run.code, run.stderr).toBe(0);
    const out = json<{ flows: { id: string; status: string; result: string }[]; counts: object }>(run);
    expect(out.flows.map((f) => f.id)).toEqual(['greet-1', 'greet-2', 'greet-3', 'greet-4', 'greet-5']);
    expect(out.flows.every((f) => f.status === 'completed' && f.result === 'hello, cli')).toBe(true);
    expect(out.counts).toEqual({ completed: 5 });
  });

  it('is idempotent by id', async () => {
    const first = json(
      await cli('--json', 'schedule', FIXTURE, 'double', '--input', '{"n":3}', '--id', 'idem-1'),
    );
    expect(first).toMatchObject({ id: 'idem-1', type: 'double', created: true });
    const again = await cli('schedule', FIXTURE, 'double', '--input', '{"n":4}', '--id', 'idem-1');
    expect(again.stdout).toMatch(
      /^flow idem-1 already exists \((pending|running|completed)\): not scheduled again\n$/,
    );
    const waited = json(await cli('--json', 'flows', 'wait', 'idem-1'));
    expect(waited).toMatchObject({ flows: [{ id: 'idem-1', result: 6 }] });
  });

  it('drains: waits until no flow of a type is unfinished', async () => {
    // In a queue the suite's worker does not serve: nothing runs them until a second worker,
    // started well after the drain, does. (Delayed flows in the served queue raced the drain's
    // start: under CI load two CLI start-ups took longer than the 12 s delay.)
    const scheduled = json<{ ids: string[]; created: number }>(
      await cli(
        '--json',
        'schedule',
        FIXTURE,
        'double',
        '--input',
        '{"n":5}',
        '--count',
        '12',
        '--id',
        'drain',
        '--queue',
        'drain',
      ),
    );
    expect(scheduled.created).toBe(12);
    const draining = cli('--json', 'flows', 'wait', '--all', '--type', 'double', '--timeout', '60s');
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect((await show(scheduled.ids[0] ?? '')).status).toBe('pending');
    const second = await startWorker(suite.store, ['--queue', 'drain']);
    const drained = await draining.finally(() => second.stop());
    expect(drained.code, drained.stderr).toBe(0);
    const out = json<{ flows: { id: string }[]; counts: { completed?: number } }>(drained);
    expect(out.counts).toEqual({ completed: 12 });
    expect(out.flows.map((f) => f.id).sort()).toEqual(scheduled.ids.sort());
    const left = json<{ flows: unknown[] }>(
      await cli('--json', 'flows', 'list', '--type', 'double', '--status', 'pending,running,suspended'),
    );
    expect(left.flows).toEqual([]);
  });
});

describe('workers', () => {
  it('lists the running worker from the store registry, with its process, queues and heartbeat', async () => {
    interface WorkersJson {
      workers: {
        id: string;
        kind: string;
        pid: number;
        queues: string[];
        heartbeatAgeMs: number;
        flows: unknown[];
      }[];
    }
    const listed = await eventually(async () => {
      const run = json<WorkersJson>(await cli('--json', 'workers'));
      return run.workers.length > 0 ? run : undefined;
    });
    expect(listed.workers).toHaveLength(1);
    expect(listed.workers[0]).toMatchObject({
      kind: 'worker',
      pid: suite.worker?.child.pid,
      queues: ['default'],
    });
    expect(listed.workers[0]?.heartbeatAgeMs).toBeLessThan(5000);
    const text = await cli('workers');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`:${suite.worker?.child.pid}`);
  });
});

describe('purge and worker shutdown', () => {
  it('purges finished flows older than a given age', async () => {
    expect(json(await cli('--json', 'purge', '--older-than', '1h'))).toEqual({ purged: 0, olderThan: '1h' });
    await cli('schedule', FIXTURE, 'double', '--input', '{"n":6}', '--id', 'old-1', '--wait');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const purged = json<{ purged: number }>(await cli('--json', 'purge', '--older-than', '10ms'));
    expect(purged.purged).toBeGreaterThan(0);
    const gone = await cli('flows', 'show', 'old-1');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/FLOW_NOT_FOUND/);
  });

  it('stops the worker gracefully on SIGTERM', async () => {
    const stopped = await suite.worker!.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(5000);
    expect(suite.worker!.stdout()).toMatch(/"event":"stopped".*"signal":"SIGTERM"/);
    // A graceful stop leaves the registry.
    expect(json<{ workers: unknown[] }>(await cli('--json', 'workers')).workers).toEqual([]);
  });
});
