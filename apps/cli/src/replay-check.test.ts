// `ergon replay-check`, `ergon fork` and `ergon flows export/import`, run as the real binary
// against histories recorded on a SQLite file and on Redis.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { requireService } from '@ergon/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_DIR, ergon, json, tempDir } from './testing/cli.js';
import { recordShipments } from './testing/record.js';

const V1 = join(CLI_DIR, 'dist', 'fixtures', 'replay-v1.js');
const V2 = join(CLI_DIR, 'dist', 'fixtures', 'replay-v2.js');
const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';
const COUNT = 40;

interface ReportJson {
  passed: boolean;
  checked: number;
  problems: {
    flowId: string;
    status: string;
    position?: number;
    recordedKey?: string;
    calledKey?: string;
    location?: string;
  }[];
}

const evenIds = Array.from({ length: COUNT }, (_, n) => n)
  .filter((n) => n % 2 === 0)
  .map((n) => `ship-${n}`)
  .sort();

let tmp: { dir: string; remove: () => void };
let sqlite = '';
let ledger = '';
const env = () => ({ ERGON_TEST_LEDGER: ledger });

beforeAll(async () => {
  tmp = tempDir('ergon-replay-');
  ledger = join(tmp.dir, 'ledger.txt');
  const file = join(tmp.dir, 'recorded.db');
  sqlite = `sqlite:${file}`;
  const store = await SqliteExecutionLog.open({ path: file });
  try {
    await recordShipments(store, { count: COUNT, concurrency: 8 });
  } finally {
    await store.close();
  }
}, 120_000);

afterAll(() => tmp?.remove());

describe('ergon replay-check', { timeout: 90_000 }, () => {
  it('passes on the code the histories were recorded with, running no step body', async () => {
    const run = await ergon(['--store', sqlite, 'replay-check', V1], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`replay-check passed: ${COUNT} flows replay on this code`);
    expect(existsSync(ledger)).toBe(false);
  });

  it('exits 4 and names exactly the flows a reordering touches, with both keys and where', async () => {
    const run = await ergon(['--store', sqlite, '--json', 'replay-check', V2], { env: env() });
    expect(run.code, run.stderr).toBe(4);
    const report = json<ReportJson>(run);
    expect(report).toMatchObject({ passed: false, checked: COUNT });
    expect(report.problems.map((p) => p.flowId).sort()).toEqual(evenIds);
    for (const problem of report.problems) {
      expect(problem).toMatchObject({
        status: 'diverged',
        position: 1,
        recordedKey: 'pack#0',
        calledKey: 'label#0',
      });
      expect(problem.location).toMatch(/replay-flows\.js:\d+/);
    }
    const text = await ergon(['--store', sqlite, 'replay-check', V2, '--type', 'shipment', '--limit', '5'], {
      env: env(),
    });
    expect(text.code).toBe(4);
    expect(text.stdout).toMatch(/replay-check failed: \d of 5 flows do not replay on this code/);
    expect(text.stdout).toContain('pack#0');
    expect(existsSync(ledger)).toBe(false);
  });

  it('checks an export file the same way, and reports a history of a type the code lacks', async () => {
    const file = join(tmp.dir, 'histories.jsonl');
    const exported = await ergon(['--store', sqlite, 'flows', 'export', '--output', file]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain(`exported ${COUNT} flows`);
    const passed = await ergon(['replay-check', V1, '--file', file], { env: env() });
    expect(passed.code, passed.stderr).toBe(0);
    const failed = await ergon(['--json', 'replay-check', V2, '--file', file], { env: env() });
    expect(failed.code).toBe(4);
    expect(
      json<ReportJson>(failed)
        .problems.map((p) => p.flowId)
        .sort(),
    ).toEqual(evenIds);
    // A history whose type the module does not define.
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const foreign = JSON.parse(lines[0] ?? '{}');
    foreign.flow.type = 'no-such-type';
    const mixed = join(tmp.dir, 'mixed.jsonl');
    writeFileSync(mixed, `${JSON.stringify(foreign)}\n`);
    const unknown = await ergon(['replay-check', V1, '--file', mixed], { env: env() });
    expect(unknown.code).toBe(4);
    expect(unknown.stdout).toMatch(/unknown-type.*no flow definition of type "no-such-type"/s);
    const bad = join(tmp.dir, 'bad.jsonl');
    writeFileSync(bad, 'this is not json\n');
    const unreadable = await ergon(['replay-check', V1, '--file', bad]);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(/line 1 of .*bad\.jsonl is not an exported flow.*\[INVALID_ARGUMENT\]/);
    expect(existsSync(ledger)).toBe(false);
  });

  it('replays histories recorded on Redis', async () => {
    await requireService('Redis', REDIS_URL);
    const prefix = `ergon-test:cli-replay:${randomUUID()}`;
    const store = await RedisExecutionLog.open({ url: REDIS_URL, prefix });
    try {
      await recordShipments(store, { count: COUNT, concurrency: 8 });
      const args = ['--store', REDIS_URL, '--prefix', prefix, '--json', 'replay-check'];
      const same = await ergon([...args, V1], { env: env() });
      expect(same.code, same.stderr).toBe(0);
      expect(json<ReportJson>(same)).toMatchObject({ passed: true, checked: COUNT });
      const changed = await ergon([...args, V2], { env: env() });
      expect(changed.code).toBe(4);
      expect(
        json<ReportJson>(changed)
          .problems.map((p) => p.flowId)
          .sort(),
      ).toEqual(evenIds);
      expect(existsSync(ledger)).toBe(false);
    } finally {
      // Leave nothing behind: finish the suspended flows, then purge every finished one.
      const client = new Client({ store });
      for (let n = 0; n < COUNT; n++) await client.cancel(`ship-${n}`).catch(() => undefined);
      await store.purge({ finishedBefore: Date.now() + 60_000, limit: 1000 });
      await store.close();
    }
  }, 120_000);
});
