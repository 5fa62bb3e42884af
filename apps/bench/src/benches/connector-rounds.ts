/**
 * How a connector row is measured against its raw client: an untimed
 * warm-up of both sides, then three timed runs of each, alternating, each on
 * a fresh queue of the same size; the best run of each side is reported
 * (the broker shares the machine's cores, so other load only slows a run).
 *
 * The warm-up may be several rounds (`warmUpRounds`), the same for both
 * sides: a consumer task runs more code than a raw loop, and V8 optimises
 * it only after some tens of thousands of messages. A profile of the Redis
 * row's Ergon side spent 15–25 µs of CPU per message in its first three
 * rounds of 50,000 and 10–11 µs from then on, while the raw loop was warm
 * after one: with one short warm-up, the quick rows timed the JIT more than
 * the steady state a long-running consumer is in.
 *
 * @module
 */
import { runTask, type Task } from '@ergon/tasks';

/** One side of a comparison: fills are untimed, consuming `count` messages is timed (ms). */
export interface ConnectorSide {
  /** Prepares a fresh queue (stream, topic) holding `count` messages; returns what `consume` needs. */
  readonly fill: (count: number, label: string) => Promise<string>;
  /** Consumes and acks `count` messages of the queue; resolves with the ms it took. */
  readonly consume: (queue: string, count: number) => Promise<number>;
}

/** Rates (messages/s) of every timed run of each side, in order, and this process's CPU µs per message in each. */
export interface RoundRates {
  readonly raw: number[];
  readonly ergon: number[];
  readonly rawCpu: number[];
  readonly ergonCpu: number[];
}

/** Warms both sides up (`warmUpRounds` untimed runs of `warmUp` messages each), then alternates three timed runs of each. */
export async function alternateRounds(
  sides: { readonly raw: ConnectorSide; readonly ergon: ConnectorSide },
  count: number,
  warmUp = Math.min(count, 2000),
  warmUpRounds = 1,
): Promise<RoundRates> {
  for (let round = 0; round < warmUpRounds; round++) {
    for (const side of [sides.raw, sides.ergon])
      await side.consume(await side.fill(warmUp, 'warm-up'), warmUp);
  }
  const rates: RoundRates = { raw: [], ergon: [], rawCpu: [], ergonCpu: [] };
  for (let round = 0; round < 3; round++) {
    for (const which of ['raw', 'ergon'] as const) {
      const side = sides[which];
      const queue = await side.fill(count, 'timed');
      const cpu = process.cpuUsage();
      const ms = await side.consume(queue, count);
      const used = process.cpuUsage(cpu);
      rates[which].push((count / ms) * 1000);
      rates[which === 'raw' ? 'rawCpu' : 'ergonCpu'].push((used.user + used.system) / count);
    }
  }
  return rates;
}

/** The `extra` fields every connector row carries: sizes and how noisy the runs were. */
export function roundExtras(rates: RoundRates): Record<string, unknown> {
  const least = (values: number[]) => Math.round(Math.min(...values) * 10) / 10;
  return {
    runs: rates.ergon.length,
    // Each timed Ergon run against the raw run just before it.
    roundRatios: rates.ergon.map((rate, i) => Math.round((rate / (rates.raw[i] ?? rate)) * 1000) / 1000),
    // CPU of this process per message (the broker's not counted), the least of the runs:
    // steadier than the rates on a busy machine, where a run's wall time depends on what else runs.
    cpuUsPerMessage: { ergon: least(rates.ergonCpu), raw: least(rates.rawCpu) },
  };
}

/** The log line of a connector row: each side's rates and CPU per message. */
export function roundLog(rates: RoundRates, rawName: string): string {
  const list = (values: number[], digits: number) => values.map((v) => v.toFixed(digits)).join(' ');
  return (
    `  ergon ${list(rates.ergon, 0)} msg/s (${list(rates.ergonCpu, 1)} µs CPU/msg); ` +
    `raw ${rawName} ${list(rates.raw, 0)} msg/s (${list(rates.rawCpu, 1)} µs CPU/msg)`
  );
}

/**
 * Runs a consumer task until `count` transactions were acked; the milliseconds from `t0` to the
 * last ack. @throws when the task failed or acked fewer.
 */
export async function timeAcks(task: Task, count: number, t0: number): Promise<number> {
  let doneAt = 0;
  let acked = 0;
  const summary = await runTask(task, {
    handleSignals: false,
    onOutcome: (outcome) => {
      if (outcome.settlement === 'ack' && ++acked === count) doneAt = performance.now();
    },
  });
  if (summary.reason === 'failed') throw summary.error ?? new Error('the consumer task failed');
  if (acked !== count) throw new Error(`only ${acked} of ${count} transactions were acked`);
  return doneAt - t0;
}
