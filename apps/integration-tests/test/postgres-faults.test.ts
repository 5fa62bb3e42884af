// Connections ended under the workers (issue "storage-postgres"): four worker
// processes run 5-step flows on PostgreSQL while the test ends their
// connections with pg_terminate_backend about every second (only theirs,
// found by application_name: never another test's). Every flow must complete
// once, every step be recorded exactly once, and no worker process may die.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { noopLogger, runtimeStore } from '@ergon/core';
import { Client, flow } from '@ergon/executor';
import { PostgresExecutionLog } from '@ergon/storage-postgres';
import { requireService } from '@ergon/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { dropPostgresSchema, POSTGRES_URL, postgresQuery, postgresSchema } from './postgres.js';

const FLOWS = Number(process.env.ERGON_PG_FAULT_FLOWS ?? 200);
const PROCESSES = 4;
const CONCURRENCY = 8;
const WORKER = fileURLToPath(new URL('./fixtures/crash-worker.mjs', import.meta.url));
const available = (await requireService('PostgreSQL', POSTGRES_URL)).available;

// Same name as the fixture's flow: scheduling needs only the type name.
const fiveSteps = flow('five-steps', async (_ctx, n: number) => n);

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

describe.runIf(available)('PostgreSQL connections ended under the workers', () => {
  const dirs: string[] = [];
  const schemas: string[] = [];
  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    for (const s of schemas) await dropPostgresSchema(s);
  });

  it(`${FLOWS} flows of 5 steps complete once while pg_terminate_backend ends the workers' connections every second`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ergon-pg-faults-'));
    dirs.push(dir);
    const ledger = join(dir, 'ledger.txt');
    writeFileSync(ledger, '');
    const schema = postgresSchema('faults');
    schemas.push(schema);
    const workersApp = `${schema}_workers`;
    const store = runtimeStore(
      await PostgresExecutionLog.open({
        url: POSTGRES_URL,
        schema,
        applicationName: schema,
        logger: noopLogger,
      }),
    );
    const client = new Client({ store });
    for (let n = 0; n < FLOWS; n++) await client.schedule(fiveSteps, n, { flowId: `pgf-${n}` });

    const stderr: string[] = [];
    const exits: (number | null)[] = [];
    const workers = Array.from({ length: PROCESSES }, (_, slot) => {
      const child = fork(WORKER, [], {
        env: {
          ...process.env,
          STORE: 'postgres',
          POSTGRES_URL,
          POSTGRES_SCHEMA: schema,
          POSTGRES_APP: workersApp,
          LEDGER: ledger,
          WORKER_ID: `pgf-w${slot}`,
          CONCURRENCY: String(CONCURRENCY),
        },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      children.add(child);
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
      child.once('exit', (code) => {
        children.delete(child);
        exits.push(code);
      });
      return child;
    });
    let rounds = 0;
    let ended = 0;
    const started = Date.now();
    try {
      for (;;) {
        const open = await store.listFlows({ status: ['pending', 'running', 'suspended'], limit: 1 });
        if (open.flows.length === 0) break;
        if (Date.now() - started > 240_000) {
          const left = await store.listFlows({ status: ['pending', 'running', 'suspended'], limit: 5 });
          const shown = left.flows.map((f) => `${f.id} ${f.status} runs ${f.runCount} lease ${f.leaseOwner ?? '-'}`);
          throw new Error(`flows did not finish within 240 s; still open: ${shown.join('; ')}`);
        }
        await delay(800 + Math.random() * 400);
        // Filter first, in a materialized CTE: the function must never see another application's backend.
        const rows = await postgresQuery<{ ended: boolean }>(
          `with mine as materialized (
             select pid from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid())
           select pg_terminate_backend(pid) as ended from mine`,
          [workersApp],
        );
        ended += rows.length;
        rounds++;
      }
    } finally {
      for (const w of workers) w.kill('SIGKILL');
    }
    const elapsed = (Date.now() - started) / 1000;
    expect(
      exits.filter((code) => code !== null),
      stderr.join('').slice(0, 2000),
    ).toEqual([]);
    expect(ended).toBeGreaterThan(0);

    const expectedKeys = [0, 1, 2, 3, 4].map((i) => `step-${i}#0`);
    for (let n = 0; n < FLOWS; n++) {
      const f = await store.getFlow(`pgf-${n}`);
      expect(f?.status, `pgf-${n}`).toBe('completed');
      const history = await store.getHistory(`pgf-${n}`);
      expect(history.map((h) => h.key)).toEqual(expectedKeys);
      expect(history.every((h) => h.status === 'completed')).toBe(true);
      if (n % 97 === 0) expect(await client.result(`pgf-${n}`)).toBe(10 + n);
    }
    const starts = new Map<string, number>();
    for (const line of readFileSync(ledger, 'utf8').split('\n').filter(Boolean)) {
      const [kind, flowId, step] = line.split(' ');
      if (kind === 'start') starts.set(`${flowId}/${step}`, (starts.get(`${flowId}/${step}`) ?? 0) + 1);
    }
    expect(starts.size).toBe(FLOWS * 5);
    const reruns = [...starts.values()].reduce((a, b) => a + b, 0) - FLOWS * 5;
    console.log(
      `[postgres faults] ${FLOWS} flows × 5 steps in ${elapsed.toFixed(1)} s; ${rounds} rounds of pg_terminate_backend ` +
        `ended ${ended} worker connections; ${reruns} step re-runs (steps cut short by an ended connection)`,
    );
    await store.close();
  }, 300_000);
});
