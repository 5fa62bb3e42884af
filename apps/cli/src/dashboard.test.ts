// `ergon dashboard` as a subprocess over a real worker's SQLite store: it
// prints where to open it, serves the flows behind its token, refuses
// actions in read-only mode, and stops on SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, CLI_DIR, ergon, eventually, FIXTURE, json } from './testing/cli.js';
import { useWorkerStore } from './testing/worker-store.js';

const suite = useWorkerStore(['--concurrency', '2']);
const TOKEN = 'cli-dashboard-token-0123456789';

interface Started {
  readonly child: ChildProcess;
  readonly event: { url: string; open: string; port: number; readOnly: boolean };
  output(): string;
}

/** Starts `ergon --json dashboard --port 0 ...extra` and resolves with its `started` event. */
function startDashboard(extra: readonly string[]): Promise<Started> {
  const env = { ...process.env };
  delete env.ERGON_STORE;
  delete env.ERGON_DASHBOARD_TOKEN;
  const child = spawn(
    process.execPath,
    [BIN, '--store', suite.store, '--json', 'dashboard', '--port', '0', ...extra],
    {
      cwd: CLI_DIR,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dashboard did not start:\n${out}\n${err}`)), 30_000);
    child.stdout?.on('data', () => {
      const line = out.split('\n').find((l) => l.includes('"event":"started"'));
      if (!line) return;
      clearTimeout(timer);
      resolve({ child, event: JSON.parse(line), output: () => out + err });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dashboard exited with ${code}:\n${out}\n${err}`));
    });
  });
}

function stop(started: Started): Promise<number | null> {
  return new Promise((resolve) => {
    started.child.on('exit', (code) => resolve(code));
    started.child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  const scheduled = await suite.cli(
    'schedule',
    FIXTURE,
    'await-approval',
    '--input',
    '{"order":"d-1"}',
    '--id',
    'dash-1',
  );
  expect(scheduled.code, scheduled.stderr).toBe(0);
  await eventually(async () => {
    const shown = json<{ status: string }>(await suite.cli('--json', 'flows', 'show', 'dash-1'));
    return shown.status === 'suspended' ? true : undefined;
  }, 20_000);
});

describe('ergon dashboard', () => {
  it('serves the store’s flows on loopback behind its token, and stops on SIGTERM', async () => {
    const started = await startDashboard(['--token', TOKEN]);
    try {
      expect(started.event.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(started.event.open).toBe(`${started.event.url}?token=${TOKEN}`);
      expect((await fetch(new URL('api/flows', started.event.url))).status).toBe(401);
      const list = await fetch(new URL('api/flows', started.event.url), {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(list.status).toBe(200);
      const body = (await list.json()) as { flows: { id: string; status: string }[] };
      expect(body.flows).toContainEqual(expect.objectContaining({ id: 'dash-1', status: 'suspended' }));
      const page = await fetch(started.event.open, { redirect: 'manual' });
      expect(page.status).toBe(303);
    } finally {
      expect(await stop(started)).toBe(0);
    }
    expect(started.output()).toContain('"event":"stopped"');
  });

  it('refuses actions with 403 under --read-only', async () => {
    const started = await startDashboard(['--token', TOKEN, '--read-only']);
    try {
      expect(started.event.readOnly).toBe(true);
      const res = await fetch(new URL('api/actions/signal', started.event.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'dash-1', name: 'approve', payload: { by: 'eve' } }),
      });
      expect(res.status).toBe(403);
    } finally {
      await stop(started);
    }
    const shown = json<{ status: string }>(await suite.cli('--json', 'flows', 'show', 'dash-1'));
    expect(shown.status).toBe('suspended');
  });

  it('makes up a token when none is given, and fails clearly on a missing database', async () => {
    const started = await startDashboard([]);
    try {
      const token = new URL(started.event.open).searchParams.get('token') ?? '';
      expect(token.length).toBeGreaterThanOrEqual(24);
      const ok = await fetch(new URL('api/session', started.event.url), {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(ok.status).toBe(200);
    } finally {
      await stop(started);
    }
    const missing = await ergon(['--store', 'sqlite:./no-such-dir/none.db', 'dashboard', '--port', '0']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no Ergon database');
  });
});
