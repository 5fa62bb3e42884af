/**
 * Smoke test of the benchmark CLI: runs the built bench at the tiny
 * `ERGON_BENCH_SIZE=smoke` size into a temporary file and checks the JSON's
 * shape (not the numbers). Needs Redis, PostgreSQL, RabbitMQ, NATS (JetStream), the
 * `mosquitto` binary (the MQTT row starts a broker of its own) and `redis-server` with
 * `redis-cli` (the cluster rows start a Redis Cluster of their own): under CI=true a missing
 * service fails the test; elsewhere the test is skipped with a loud message.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireRedisCluster, requireService } from '@ergon/testing';
import { describe, expect, it } from 'vitest';
import { ROW_NAMES } from './lib/results.js';

const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.ERGON_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

// Under CI=true a missing service fails here; elsewhere the smoke test is skipped loudly.
const AMQP_URL = process.env.ERGON_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const NATS_URL = process.env.ERGON_NATS_URL ?? 'nats://127.0.0.1:4222';
const mosquittoInstalled = spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error === undefined;
if (!mosquittoInstalled && process.env.CI === 'true')
  throw new Error('CI=true and the mosquitto binary is missing');
const servicesUp =
  (await requireService('Redis', REDIS_URL)).available &&
  (await requireService('PostgreSQL', POSTGRES_URL)).available &&
  (await requireService('RabbitMQ', AMQP_URL)).available &&
  (await requireService('NATS', NATS_URL)).available &&
  mosquittoInstalled &&
  requireRedisCluster();

function runBench(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** Rows that have a peer; every other row has `peer`, `peerValue` and `ratio` null. */
const WITH_PEER = new Set([
  'step-overhead-sqlite',
  'step-overhead-redis',
  'step-overhead-postgres',
  'throughput-redis-1step',
  'throughput-redis-3step',
  'throughput-sqlite-1step',
  'throughput-postgres-1step',
  'latency-idle-redis-p50',
  'latency-idle-redis-p99',
  'latency-idle-postgres-p50',
  'latency-idle-postgres-p99',
  'recovery-after-kill',
  'scaling-redis-concurrency-1',
  'scaling-redis-concurrency-16',
  'scaling-redis-concurrency-64',
  'scaling-redis-processes-1',
  'scaling-redis-processes-2',
  'scaling-redis-processes-4',
  'cpu-per-flow-redis-worker',
  'cpu-per-flow-redis-store',
  'connector-amqp',
  'connector-redis-streams',
  'bridge-redis-streams',
  'connector-nats',
  'connector-mqtt',
  'connector-postgres',
  'connector-s3',
  'claim-keys-10k-sqlite',
  'claim-keys-10k-redis',
  'fair-first-start-sqlite',
]);

describe('bench CLI', () => {
  it('is built (turbo builds it before the tests)', () => {
    expect(existsSync(MAIN), `${MAIN} is missing: run the build first`).toBe(true);
  });

  // A process that loads every benchmark's peers (BullMQ, pg-boss, DBOS): seconds on a busy machine.
  it('refuses an unknown benchmark name with the list of names', { timeout: 60_000 }, async () => {
    const { code, output } = await runBench([
      '--only',
      'no-such-bench',
      '--out',
      join(tmpdir(), 'never.json'),
    ]);
    expect(code).toBe(2);
    expect(output).toContain("unknown benchmark 'no-such-bench'");
    expect(output).toContain('timers-100k-lateness-p99');
  });
});

describe.skipIf(!servicesUp)('bench at smoke size', () => {
  it('writes every row with the documented shape', { timeout: 600_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ergon-bench-smoke-'));
    try {
      const out = join(dir, 'results.json');
      const { code, output } = await runBench(['--out', out], { ERGON_BENCH_SIZE: 'smoke' });
      expect(code, output).toBe(0);
      const report = JSON.parse(readFileSync(out, 'utf8'));

      expect(report.mode).toBe('smoke');
      expect(report.machine.cpus).toBeGreaterThan(0);
      expect(typeof report.machine.cpuModel).toBe('string');
      expect(report.machine.memoryGiB).toBeGreaterThan(0);
      expect(report.machine.node).toBe(process.version);
      expect(typeof report.machine.redis).toBe('string');
      expect(typeof report.machine.postgres).toBe('string');

      const rows = report.results as Record<string, unknown>[];
      expect(rows.map((r) => r.name)).toEqual([...ROW_NAMES]);
      for (const row of rows) {
        const where = `row ${String(row.name)}`;
        expect(typeof row.unit, where).toBe('string');
        expect(['lower', 'higher'], where).toContain(row.better);
        expect(row.error, where).toBeUndefined();
        expect(Number.isFinite(row.ergon), where).toBe(true);
        expect(row.size, `${where}: size used`).toBeDefined();
        if (WITH_PEER.has(row.name as string)) {
          expect(typeof row.peer, where).toBe('string');
          expect(Number.isFinite(row.peerValue), where).toBe(true);
          expect(row.peerValue as number, where).toBeGreaterThan(0);
          const ratio = (row.ergon as number) / (row.peerValue as number);
          expect(Math.abs((row.ratio as number) - ratio) / ratio, where).toBeLessThan(1e-3);
        } else {
          expect(row.peer, where).toBeNull();
          expect(row.peerValue, where).toBeNull();
          expect(row.ratio, where).toBeNull();
        }
        expect(row.meetsTarget === null || typeof row.meetsTarget === 'boolean', where).toBe(true);
      }
      // Each side of a throughput row ran its warm-up batch through the same workers first, then
      // its timed rounds (smoke size: 2), and reports the median one.
      for (const name of ['throughput-redis-1step', 'throughput-sqlite-1step'] as const) {
        const row = rows.find((r) => r.name === name) as unknown as Record<
          string,
          { coldPerSecond?: number; rounds?: number[] }
        >;
        expect(row.ergonRun?.coldPerSecond, `${name}: ergon warm-up`).toBeGreaterThan(0);
        expect(row.peerRun?.coldPerSecond, `${name}: peer warm-up`).toBeGreaterThan(0);
        for (const side of ['ergonRun', 'peerRun'] as const) {
          const rounds = row[side]?.rounds ?? [];
          expect(rounds, `${name}: ${side} rounds`).toHaveLength(2);
          for (const rate of rounds) expect(rate, `${name}: ${side} round rate`).toBeGreaterThan(0);
        }
      }
      const postgres = rows.find((r) => r.name === 'throughput-postgres-1step') as unknown as Record<
        string,
        { rounds?: number[] } | undefined
      >;
      expect(postgres.ergonRun?.rounds, 'throughput-postgres-1step: ergon rounds').toHaveLength(2);
      expect(postgres.pgBossRun?.rounds, 'throughput-postgres-1step: pg-boss rounds').toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
