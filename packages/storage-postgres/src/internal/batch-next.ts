/**
 * The next claims of a batch's finishes (`FinishRequest.next`, capability
 * `finishClaims`); `finishFlow` with `next` is a batch of that one finish. The
 * claims come after every write of the batch, the alike ones merged into one
 * claim shared out among their finishes (core's `next-claims.ts`).
 *
 * One such claim rides in the batch's last statement (`ergon_batch_claim`,
 * `batch-claim.ts`): the finish and its worker's claim in one round trip and
 * one commit. It is made there only when that statement makes all its writes;
 * otherwise (a stale token, a child's finish, which takes its single path), and
 * for the other claims of the batch, each is made after the writes by itself,
 * as `claim` makes it. A claim of queues under flow control goes on, after the
 * statement, as `claim` does (`leases.ts`). A finish refused claims nothing.
 *
 * @module
 */
import {
  alikeNextClaims,
  type BatchOutcome,
  type BatchWrite,
  type ClaimedFlow,
  type ClaimRequest,
  groupNextClaims,
  type NextClaimGroup,
  shareNextClaims,
} from '@ergon/core';
import type { ClaimJsonRow } from './claimed.js';
import type { Context } from './context.js';
import { claimControlledAfter, claimedOf, claimFlows } from './leases.js';

/** The next claims of one batch (see the module notes). */
export class NextClaims {
  readonly #ctx: Context;
  readonly #writes: readonly BatchWrite[];
  readonly #outcomes: BatchOutcome[];
  /** The claim that rode in the last statement, and what the statement answered for it. */
  #rode: { request: ClaimRequest; row: ClaimJsonRow } | undefined;

  constructor(ctx: Context, writes: readonly BatchWrite[], outcomes: BatchOutcome[]) {
    this.#ctx = ctx;
    this.#writes = writes;
    this.#outcomes = outcomes;
  }

  /**
   * The claim to ride in the batch's last statement, whose finishes are at `pending` (taken to
   * succeed: else the statement claims nothing); the worker is marked parked before it is sent
   * when it asks to park (`listener.ts`).
   */
  rider(pending: readonly number[]): ClaimRequest | undefined {
    const [first] = this.#merged(new Set(pending));
    if (!first) return undefined;
    if (first.request.park === true) this.#ctx.listener.parking(first.request.workerId);
    return first.request;
  }

  /** The last statement made its writes and the rider's claim: `row` is what it claimed. */
  rode(rider: ClaimRequest, row: ClaimJsonRow): void {
    this.#rode = { request: rider, row };
  }

  /**
   * Makes the claims (those that did not ride), and puts each finish's share in its outcome. The
   * writes are made by now: a claim that fails leaves its finishes answered without `claimed`
   * (their workers claim as usual) rather than failing writes that were made.
   */
  async claim(): Promise<void> {
    const rode = this.#rode;
    for (const { request, at } of this.#merged(new Set())) {
      const rodeHere =
        rode !== undefined &&
        alikeNextClaims(rode.request, request) &&
        rode.request.limit === request.limit &&
        rode.request.now === request.now;
      let claimed: ClaimedFlow[];
      try {
        claimed = rodeHere
          ? await claimControlledAfter(this.#ctx, request, claimedOf(rode.row, request))
          : await claimFlows(this.#ctx, request);
      } catch {
        continue;
      }
      shareNextClaims(this.#writes, this.#outcomes, at, claimed);
    }
  }

  /** The finishes asking for a next claim that succeeded (or are at `pending`), merged. */
  #merged(pending: ReadonlySet<number>): NextClaimGroup[] {
    return groupNextClaims(this.#writes, (i) => pending.has(i) || this.#outcomes[i]?.ok === true);
  }
}
