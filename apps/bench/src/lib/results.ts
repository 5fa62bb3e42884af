/**
 * The rows of `bench-results.json`: one per measured quantity, Ergon's value
 * beside the peer's (the package users would pick instead), `ratio = ergon / peerValue`.
 *
 * @module
 */
import { round } from './clock.js';

export type Better = 'lower' | 'higher';

export interface Row {
  readonly name: string;
  readonly unit: string;
  readonly ergon: number | null;
  readonly peer: string | null;
  readonly peerValue: number | null;
  readonly ratio: number | null;
  readonly better: Better;
  /** DESIGN §7's target for this row, in words, or null when §7 sets none. */
  readonly target: string | null;
  /** Whether the value meets the target; null without a target (or on error). */
  readonly meetsTarget: boolean | null;
  /** Sizes and settings used, and supporting figures. */
  readonly [extra: string]: unknown;
}

/** Every row name, in the order they are printed. */
export const ROW_NAMES = [
  'step-overhead-sqlite',
  'step-overhead-redis',
  'step-overhead-postgres',
  'throughput-redis-1step',
  'throughput-redis-3step',
  'throughput-sqlite-1step',
  'throughput-postgres-1step',
  'scaling-redis-concurrency-1',
  'scaling-redis-concurrency-16',
  'scaling-redis-concurrency-64',
  'scaling-redis-processes-1',
  'scaling-redis-processes-2',
  'scaling-redis-processes-4',
  'cpu-per-flow-redis-worker',
  'cpu-per-flow-redis-store',
  'cluster-redis-3step-p1',
  'cluster-redis-3step-p16',
  'cluster-redis-3step-p16-wait',
  'latency-idle-redis-p50',
  'latency-idle-redis-p99',
  'latency-idle-sqlite-p50',
  'latency-idle-sqlite-p99',
  'latency-idle-postgres-p50',
  'latency-idle-postgres-p99',
  'recovery-after-kill',
  'timers-100k-lateness-p99',
  'timers-100k-lateness-p99-sqlite',
  'resume-10k-steps',
  'cancel-latency',
  'connector-amqp',
  'connector-redis-streams',
  'bridge-redis-streams',
  'connector-nats',
  'connector-mqtt',
  'connector-postgres',
  'connector-s3',
  'dashboard-list-100k',
  'claim-keys-10k-sqlite',
  'claim-keys-10k-redis',
  'fair-first-start-sqlite',
] as const;

export type RowName = (typeof ROW_NAMES)[number];

interface Target {
  readonly text: string;
  readonly check: (row: { ergon: number; ratio: number | null } & Record<string, unknown>) => boolean;
}

/** DESIGN §7, row by row. */
const TARGETS: Partial<Record<RowName, Target>> = {
  'step-overhead-sqlite': {
    text: 'ratio ≤ 1.5 (within 1.5× of a raw insert)',
    check: (r) => (r.ratio ?? 99) <= 1.5,
  },
  'step-overhead-redis': {
    text: 'ratio ≤ 1.3 (within 1.3× of a raw HSET round trip)',
    check: (r) => (r.ratio ?? 99) <= 1.3,
  },
  'throughput-redis-1step': { text: 'ratio ≥ 2 (at least 2× BullMQ)', check: (r) => (r.ratio ?? 0) >= 2 },
  'throughput-redis-3step': { text: 'ratio ≥ 2 (at least 2× BullMQ)', check: (r) => (r.ratio ?? 0) >= 2 },
  'throughput-sqlite-1step': { text: 'ratio ≥ 3 (at least 3× pg-boss)', check: (r) => (r.ratio ?? 0) >= 3 },
  'latency-idle-redis-p50': {
    text: "< 1 ms and below BullMQ's",
    check: (r) => r.ergon < 1 && (r.ratio ?? 99) < 1,
  },
  'latency-idle-sqlite-p50': { text: '< 2 ms', check: (r) => r.ergon < 2 },
  'step-overhead-postgres': {
    text: "at most DBOS Transact's µs/step (dbosUsPerStep)",
    check: (r) => r.ergon <= Number(r.dbosUsPerStep ?? 0),
  },
  'throughput-postgres-1step': {
    text: 'ratio ≥ 2 (at least 2× DBOS Transact) and above pg-boss (pgBossPerSecond)',
    check: (r) => (r.ratio ?? 0) >= 2 && r.ergon > Number(r.pgBossPerSecond ?? Number.POSITIVE_INFINITY),
  },
  'latency-idle-postgres-p50': { text: '< 2 ms', check: (r) => r.ergon < 2 },
  'recovery-after-kill': {
    text: '< 2 s with default settings, on Redis and SQLite',
    check: (r) => r.ergon < 2 && Number(r.sqliteSeconds ?? 99) < 2,
  },
  'timers-100k-lateness-p99': { text: '< 100 ms (idle CPU near zero)', check: (r) => r.ergon < 100 },
  'timers-100k-lateness-p99-sqlite': { text: '< 100 ms (idle CPU near zero)', check: (r) => r.ergon < 100 },
  'resume-10k-steps': { text: 'well under 1 s (< 500 ms)', check: (r) => r.ergon < 500 },
  'cancel-latency': {
    text: '< 100 ms (cancel of a running flow seen and finished)',
    check: (r) => r.ergon < 100,
  },
  'connector-amqp': {
    text: 'ratio ≥ 0.8 (at least 0.8× the raw client)',
    check: (r) => (r.ratio ?? 0) >= 0.8,
  },
  'connector-redis-streams': {
    text: 'ratio ≥ 0.8 (at least 0.8× the raw client)',
    check: (r) => (r.ratio ?? 0) >= 0.8,
  },
  'bridge-redis-streams': { text: '≥ 5000 transactions/s', check: (r) => r.ergon >= 5000 },
  'claim-keys-10k-sqlite': {
    text: 'ratio ≥ 0.7 (10,000 concurrency keys cost at most 30% of claim throughput)',
    check: (r) => (r.ratio ?? 0) >= 0.7,
  },
  'claim-keys-10k-redis': {
    text: 'ratio ≥ 0.7 (10,000 concurrency keys cost at most 30% of claim throughput)',
    check: (r) => (r.ratio ?? 0) >= 0.7,
  },
  'connector-nats': {
    text: 'ratio ≥ 0.8 (at least 0.8× the raw client)',
    check: (r) => (r.ratio ?? 0) >= 0.8,
  },
  'connector-mqtt': {
    text: 'ratio ≥ 0.8 (at least 0.8× the raw client)',
    check: (r) => (r.ratio ?? 0) >= 0.8,
  },
  'connector-postgres': {
    text: 'ratio ≥ 0.8 (at least 0.8× the raw client)',
    check: (r) => (r.ratio ?? 0) >= 0.8,
  },
  'connector-s3': {
    text: 'ratio ≥ 0.8 (at least 0.8× the raw client)',
    check: (r) => (r.ratio ?? 0) >= 0.8,
  },
  'dashboard-list-100k': { text: '< 300 ms per page (server time)', check: (r) => r.ergon < 300 },
};

export interface Measured {
  readonly unit: string;
  readonly better: Better;
  readonly ergon: number;
  readonly peer?: string | undefined;
  readonly peerValue?: number | undefined;
  readonly extra?: Record<string, unknown>;
}

export function makeRow(name: RowName, m: Measured): Row {
  const peer = m.peer ?? null;
  const peerValue = peer === null || m.peerValue === undefined ? null : round(m.peerValue);
  const ergon = round(m.ergon);
  const ratio = peerValue === null || peerValue === 0 ? null : round(ergon / peerValue, 4);
  const target = TARGETS[name];
  const extra = m.extra ?? {};
  return {
    name,
    unit: m.unit,
    ergon,
    peer,
    peerValue,
    ratio,
    better: m.better,
    target: target?.text ?? null,
    meetsTarget: target ? target.check({ ...extra, ergon, ratio }) : null,
    ...extra,
  };
}

/** The row written when a benchmark failed: no numbers, the error instead. */
export function failedRow(name: RowName, unit: string, better: Better, error: unknown): Row {
  return {
    name,
    unit,
    ergon: null,
    peer: null,
    peerValue: null,
    ratio: null,
    better,
    target: TARGETS[name]?.text ?? null,
    meetsTarget: null,
    error: error instanceof Error ? error.message : String(error),
  };
}
