#!/usr/bin/env node
/**
 * `pnpm bench [--quick] [--out FILE] [--only name,...]`: runs Ergon's
 * benchmarks beside the packages users would pick instead, prints a table and
 * writes JSON (`bench-results.json` at the repository root by default).
 * `ERGON_BENCH_SIZE=smoke` makes every benchmark tiny (the smoke test).
 *
 * @module
 */
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cancelLatency } from './benches/cancel.js';
import { connectorAmqp } from './benches/connector-amqp.js';
import { connectorMqtt } from './benches/connector-mqtt.js';
import { connectorNats } from './benches/connector-nats.js';
import { connectorPostgres } from './benches/connector-postgres.js';
import { bridgeRedisStreams, connectorRedisStreams } from './benches/connector-redis-streams.js';
import { connectorS3 } from './benches/connector-s3.js';
import { dashboardList } from './benches/dashboard-list.js';
import { claimKeysRedis, claimKeysSqlite, fairFirstStart } from './benches/flow-control.js';
import { latencyRedis, latencySqlite } from './benches/latency.js';
import { stepOverheadPostgres, throughputPostgres } from './benches/postgres.js';
import { latencyPostgres } from './benches/postgres-latency.js';
import { recovery } from './benches/recovery.js';
import { redisCluster } from './benches/redis-cluster.js';
import { resume } from './benches/resume.js';
import { scaling } from './benches/scaling.js';
import { stepOverheadRedis, stepOverheadSqlite } from './benches/step-overhead.js';
import { throughputRedis1, throughputRedis3, throughputSqlite } from './benches/throughput.js';
import { timers, timersSqlite } from './benches/timers.js';
import type { Bench } from './lib/bench.js';
import { type Mode, sizesFor } from './lib/config.js';
import { describeMachine } from './lib/machine.js';
import { failedRow, ROW_NAMES, type Row } from './lib/results.js';
import { formatTable } from './lib/table.js';

const BENCHES: readonly Bench[] = [
  stepOverheadSqlite,
  stepOverheadRedis,
  stepOverheadPostgres,
  throughputRedis1,
  throughputRedis3,
  throughputSqlite,
  throughputPostgres,
  scaling,
  redisCluster,
  latencyRedis,
  latencySqlite,
  latencyPostgres,
  recovery,
  timers,
  timersSqlite,
  resume,
  cancelLatency,
  connectorAmqp,
  connectorRedisStreams,
  bridgeRedisStreams,
  connectorNats,
  connectorMqtt,
  connectorPostgres,
  connectorS3,
  dashboardList,
  claimKeysSqlite,
  claimKeysRedis,
  fairFirstStart,
];

const USAGE = `usage: pnpm bench [--quick] [--out FILE] [--only name,...]

  --quick        reduced sizes (about two minutes in all)
  --out FILE     where to write the JSON (default: bench-results.json at the repository root)
  --only LIST    comma-separated row names (or prefixes) to run; one of:
                 ${ROW_NAMES.join('\n                 ')}

  ERGON_BENCH_SIZE=smoke makes every benchmark tiny (for the smoke test).
  ERGON_REDIS_URL, ERGON_POSTGRES_URL locate the services.`;

/** The repository root: the nearest directory above this file with pnpm-workspace.yaml. */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

function parse() {
  // pnpm passes a literal `--` through to the script; it means nothing here.
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const size = process.env.ERGON_BENCH_SIZE;
  if (size !== undefined && size !== '' && size !== 'smoke' && size !== 'quick' && size !== 'full') {
    throw new Error(`ERGON_BENCH_SIZE must be smoke, quick or full (got ${JSON.stringify(size)})`);
  }
  const mode: Mode =
    size === 'smoke' || size === 'quick' || size === 'full' ? size : values.quick ? 'quick' : 'full';
  // Relative paths are taken from where the command was typed (pnpm runs scripts in the package).
  const base = process.env.INIT_CWD ?? process.cwd();
  const out = values.out
    ? isAbsolute(values.out)
      ? values.out
      : resolve(base, values.out)
    : join(repositoryRoot(), 'bench-results.json');
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of only ?? []) {
    if (!ROW_NAMES.some((row) => row === name || row.startsWith(name))) {
      throw new Error(`--only: unknown benchmark '${name}'\n\n${USAGE}`);
    }
  }
  return { mode, out, only };
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parse>;
  try {
    options = parse();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const { mode, out, only } = options;
  const sizes = sizesFor(mode);
  const wanted = (name: string) => !only || only.some((o) => name === o || name.startsWith(o));
  const selected = BENCHES.filter((b) => b.rows.some((r) => wanted(r.name)));
  const machine = await describeMachine();
  const startedAt = new Date();
  console.log(
    `ergon bench (${mode}): ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}, ` +
      `redis ${machine.redis ?? 'unreachable'}, postgres ${machine.postgres ?? 'unreachable'}`,
  );
  const rows: Row[] = [];
  let failures = 0;
  const runBench = async (bench: Bench, log: (line: string) => void) => {
    const t0 = Date.now();
    try {
      const produced = await bench.run({ mode, sizes, log });
      // The 1-minute load average when the benchmark ended: other work on the machine makes numbers noisy.
      const load = Math.round((loadavg()[0] ?? 0) * 100) / 100;
      rows.push(...produced.filter((r) => wanted(r.name)).map((r) => ({ ...r, loadAverage1m: load })));
    } catch (error) {
      failures++;
      log(`  FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      for (const r of bench.rows) if (wanted(r.name)) rows.push(failedRow(r.name, r.unit, r.better, error));
    }
    log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  };
  // Per-step overhead is a ratio of microseconds: measure it on an otherwise idle
  // machine, before anything runs alongside.
  const quietFirst = selected.filter((b) => !b.background && b.id.startsWith('step-overhead'));
  for (const bench of quietFirst) {
    console.log(`- ${bench.id}`);
    await runBench(bench, (line) => console.log(line));
  }
  // Benchmarks that mostly wait then start and run alongside the rest; their lines print when they end.
  const background = selected
    .filter((b) => b.background)
    .map((bench) => {
      console.log(`- ${bench.id} (started; runs alongside the others)`);
      const lines: string[] = [];
      return runBench(bench, (line) => lines.push(line)).then(() => {
        console.log(`- ${bench.id}`);
        for (const line of lines) console.log(line);
      });
    });
  for (const bench of selected.filter((b) => !b.background && !quietFirst.includes(b))) {
    console.log(`- ${bench.id}`);
    await runBench(bench, (line) => console.log(line));
  }
  if (background.length > 0) console.log('(waiting for the benchmarks running alongside)');
  await Promise.all(background);
  rows.sort((a, b) => ROW_NAMES.indexOf(a.name as never) - ROW_NAMES.indexOf(b.name as never));
  const finishedAt = new Date();
  const report = {
    machine,
    mode,
    startedAt: startedAt.toISOString(),
    durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
    results: rows,
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${formatTable(rows)}\n`);
  console.log(`wrote ${out} (${report.durationSeconds} s)`);
  if (failures > 0) console.error(`${failures} benchmark(s) failed`);
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
