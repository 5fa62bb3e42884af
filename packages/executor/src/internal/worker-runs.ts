/**
 * A worker's runs in flight: the runs that count against its concurrency, the
 * ones whose code is over and whose finish is in flight, and the leases being
 * released after a stop. Each run is its {@link RunControl}; what a run tells
 * the worker (its code is over, it ended) comes through one owner object for
 * all runs rather than closures and promise callbacks made per flow.
 *
 * @module
 */
import { type ClaimedFlow, type NextClaim, toError } from '@ergon/core';
import { RunControl, type RunOutcome, type RunOwner } from './run-control.js';
import { type ClaimTurn, claimTurn, runClaimed } from './runner.js';
import type { WorkerSettings } from './worker-settings.js';

/** What {@link WorkerRuns} tells its worker. */
export interface WorkerRunsHooks {
  /** A slot may be free: the claim loop looks again. */
  readonly wake: () => void;
  /** True while the worker claims (started, not pausing or stopping). */
  readonly claiming: () => boolean;
  /** A finish's claim took flows (the loop's idle backoff starts again). */
  readonly claimed: () => void;
  /** A run left the worker (the worker's `onOutcome`); a throw is logged. */
  readonly outcome: ((flowId: string, outcome: RunOutcome) => void) | undefined;
}

/** The runs of one worker. */
export class WorkerRuns {
  readonly #s: WorkerSettings;
  readonly #hooks: WorkerRunsHooks;
  /** Runs counted against concurrency, by flow id. */
  readonly #running = new Map<string, RunControl>();
  /** Runs whose code is over and whose finish is in flight: no longer counted against concurrency. */
  readonly #ending = new Set<RunControl>();
  /** Leases of runs abandoned by a stop, being released. */
  readonly #releases = new Set<Promise<void>>();
  readonly #owner: RunOwner = {
    runEnding: (control) => this.#runEnding(control),
    nextClaimed: (control, next, claimed) => this.#nextClaimed(control, next, claimed),
    runEnded: (control, outcome) => this.#runEnded(control, outcome),
  };
  /** Slots asked for by claims in flight (the loop's, or a finish's `next`): not free. */
  #reserved = 0;
  /**
   * The claim a run's finish makes for the slot it frees (`FinishRequest.next`), one object for all
   * runs; undefined on a store that does not make such claims. A store merges the alike next claims
   * of one batch into one claim, so a batch of finishes refills their slots with one claim.
   */
  readonly #next: NextClaim | undefined;
  /**
   * The worker's last claim took all it asked for: more flows likely wait, and a finish claims the
   * next. After a short claim the worker is idle (parked where the store hands off): a finish then
   * goes alone, its reply not held up by a claim likely to find nothing, and the loop claims.
   */
  #backlog = false;
  /** Runs that left the worker. */
  flowsRun = 0;
  /** Runs that left it failed. */
  flowsFailed = 0;

  constructor(settings: WorkerSettings, hooks: WorkerRunsHooks) {
    this.#s = settings;
    this.#hooks = hooks;
    const { store, workerId, queues, leaseMs, flows } = settings;
    const types = Object.freeze([...flows.keys()]);
    this.#next =
      store.capabilities.finishClaims === true
        ? Object.freeze({ workerId, types, queues, limit: 1, leaseMs })
        : undefined;
  }

  /** Runs counted against concurrency now. */
  get size(): number {
    return this.#running.size;
  }

  /** Slots neither running nor asked for by a claim in flight. */
  get free(): number {
    return this.#s.concurrency - this.#running.size - this.#reserved;
  }

  /** A claim for `slots` is in flight: they are not free until {@link WorkerRuns.unreserve}. */
  reserve(slots: number): void {
    this.#reserved += slots;
  }

  /** The claim for `slots` was answered with `taken` flows. */
  unreserve(slots: number, taken: number): void {
    this.#reserved -= slots;
    this.#backlog = taken === slots;
  }

  /** True while a run of `flowId` counts against concurrency. */
  has(flowId: string): boolean {
    return this.#running.has(flowId);
  }

  /** Runs `claimed`. */
  spawn(claimed: ClaimedFlow): void {
    this.#spawn(claimed, claimTurn(this.#s.clock));
  }

  /** Runs the flows of one claim, with what they share ({@link ClaimTurn}) looked at once. */
  spawnAll(claimed: readonly ClaimedFlow[]): void {
    if (claimed.length === 0) return;
    const turn = claimTurn(this.#s.clock);
    for (const flow of claimed) this.#spawn(flow, turn);
  }

  #spawn(claimed: ClaimedFlow, turn: ClaimTurn): void {
    const control = new RunControl({ flowId: claimed.flow.id, token: claimed.token }, this.#owner);
    this.#running.set(control.flowId, control);
    control.settled = runClaimed(this.#s, claimed, control, turn);
  }

  /** The run of `flowId`, if any, hears that its cancellation was requested. */
  cancel(flowId: string): void {
    this.#running.get(flowId)?.cancel();
  }

  /** Every run counted against concurrency is abandoned (their leases are released). */
  stopAll(): void {
    for (const run of this.#running.values()) run.stop();
  }

  /** Resolves once every run now in flight has ended and its lease, when abandoned by a stop, was released. */
  async settled(): Promise<void> {
    await Promise.all([...this.#running.values(), ...this.#ending].map((run) => run.settled));
    // A release starts as its run ends: looked at once every run has.
    await Promise.all(this.#releases);
  }

  /** Only this run's entry: the flow may be claimed again here while this run's finish is in flight. */
  #leave(control: RunControl): void {
    if (this.#running.get(control.flowId) === control) this.#running.delete(control.flowId);
  }

  /**
   * A run's code is over: its slot is free while its finish is in flight. The finish claims the
   * slot's next flow itself (one store call for both) while the worker claims; else the loop does.
   */
  #runEnding(control: RunControl): NextClaim | undefined {
    this.#leave(control);
    this.#ending.add(control);
    if (this.#next !== undefined && this.#backlog && this.free > 0 && this.#hooks.claiming()) {
      this.#reserved += 1;
      return this.#next;
    }
    this.#hooks.wake();
    return undefined;
  }

  /**
   * The flows a finish claimed run here; a worker that stopped claiming meanwhile gives them back
   * in their place. Fewer than asked (or no answer): the loop claims, or parks, as after its own.
   */
  #nextClaimed(control: RunControl, next: NextClaim, claimed: ClaimedFlow[] | undefined): void {
    this.#reserved -= next.limit;
    this.#backlog = claimed !== undefined && claimed.length === next.limit;
    // Answered after its lease ran out (a reply held back by a reconnect): the flows may already
    // be someone else's. Left to expire, as the loop leaves such a claim.
    if (claimed !== undefined && claimed.length > 0 && performance.now() - control.endedAt >= next.leaseMs) {
      this.#s.logger.warn('claim answered after its lease expired; leaving the flows to others', {
        count: claimed.length,
      });
      claimed = [];
    }
    if (claimed !== undefined && claimed.length > 0) {
      if (this.#hooks.claiming()) {
        this.spawnAll(claimed);
        this.#hooks.claimed();
      } else {
        this.#giveBack(claimed);
      }
    }
    if (claimed === undefined || claimed.length < next.limit) this.#hooks.wake();
  }

  /** Gives `claimed` back without an error (not an abandoned run), due when it was. */
  #giveBack(claimed: readonly ClaimedFlow[]): void {
    const { store, clock } = this.#s;
    for (const { flow, token } of claimed) {
      const release: Promise<void> = store
        .releaseLease({ flowId: flow.id, token, now: clock.now(), retryAt: flow.runAt })
        .catch(() => {})
        .then(() => {
          this.#releases.delete(release);
        });
      this.#releases.add(release);
    }
  }

  #runEnded(control: RunControl, outcome: RunOutcome): void {
    this.#leave(control);
    this.#ending.delete(control);
    this.flowsRun++;
    if (outcome.status === 'failed') this.flowsFailed++;
    if (outcome.status === 'abandoned' && control.stopRequested) {
      const { store, clock } = this.#s;
      const release: Promise<void> = store
        .releaseLease({ flowId: control.flowId, token: control.token, now: clock.now() })
        .catch(() => {})
        .then(() => {
          this.#releases.delete(release);
          this.#report(control, outcome);
        });
      this.#releases.add(release);
      return;
    }
    this.#report(control, outcome);
  }

  #report(control: RunControl, outcome: RunOutcome): void {
    try {
      this.#hooks.outcome?.(control.flowId, outcome);
    } catch (error) {
      this.#s.logger.warn('onOutcome threw', { error: toError(error).message });
    }
    // A run whose code ended woke the loop then (its slot was free); its finish landing need not.
    if (!control.isEnding) this.#hooks.wake();
  }
}
