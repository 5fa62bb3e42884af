/**
 * Queue limits across partitions. The home partition keeps each queue's
 * limits and counts its running flows; a flow of a limited queue elsewhere is
 * claimed in two steps: the home partition admits k runs (placeholders that
 * count until the lease would expire, `admit-1.lua`), the claim takes at most
 * k flows in the other partitions, and the home partition swaps the
 * placeholders for the runs taken (`admitted-1.lua`). Such a run is then
 * counted there as `<id>:<token>` until its lease expiry: extended before each
 * renewal, dropped once it finishes, suspends or is released. Every step errs
 * towards counting a run too long, never too short, so the limits hold even
 * when a claimer dies between the steps.
 *
 * @module
 */
import { HOME, type Partitions } from './partitions.js';
import type { ScriptRunner } from './runner.js';

/** A run admitted by the home partition: its queue, and its member there (`<id>:<token>`). */
export interface AdmittedRun {
  readonly queue: string;
  readonly member: string;
}

/** The home partition's side of claims of limited queues elsewhere. */
export class Admission {
  readonly #runner: ScriptRunner;
  readonly #layout: Partitions;

  constructor(runner: ScriptRunner, layout: Partitions) {
    this.#runner = runner;
    this.#layout = layout;
  }

  #remote(queue: string): string {
    return this.#layout.keys(HOME).queuePart('qrem', queue);
  }

  /** Admits up to `want` runs; the number admitted, or -1 when the queue has no limits. */
  async admit(queue: string, want: number, now: number, leaseUntil: number, rid: string): Promise<number> {
    const home = this.#layout.keys(HOME);
    return Number(
      await this.#runner.write(
        'admit',
        home,
        [this.#remote(queue)],
        [queue, String(want), String(now), String(leaseUntil), rid],
      ),
    );
  }

  /** Swaps an admission's `k` placeholders for the runs taken. */
  async commit(
    queue: string,
    rid: string,
    k: number,
    leaseUntil: number,
    taken: readonly string[],
  ): Promise<void> {
    const home = this.#layout.keys(HOME);
    await this.#runner.write(
      'admitted',
      home,
      [this.#remote(queue)],
      [queue, rid, String(k), String(leaseUntil), ...taken],
    );
  }

  /** The runs stopped (finished, suspended, released, lease expired): their slots are free. */
  async release(runs: readonly AdmittedRun[]): Promise<void> {
    if (runs.length === 0) return;
    await this.#runner.confirmed((pipeline) => {
      for (const run of runs) pipeline.zrem(this.#remote(run.queue), run.member);
    });
  }

  /** A run's lease is about to be renewed until `until`: count it that long. */
  async extend(run: AdmittedRun, until: number): Promise<void> {
    await this.#runner.confirmed((pipeline) =>
      pipeline.zadd(this.#remote(run.queue), 'XX', 'GT', String(until), run.member),
    );
  }
}
