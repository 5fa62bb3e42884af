/**
 * The next claims of a batch's finishes (`FinishRequest.next`, capability
 * `finishClaims`); `finishFlow` with `next` is a batch of that one finish. The
 * claims come after every write of the batch, and the finishes whose claims
 * are alike (one worker, the same types, queues, lease and park) make one
 * claim together, of their limits summed, whose flows are shared out among
 * them in batch order, each taking up to its own limit.
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
import type {
  BatchOutcome,
  BatchWrite,
  ClaimedFlow,
  ClaimRequest,
  FinishRequest,
  FinishResult,
  NextClaim,
} from '@ergon/core';
import type { ClaimJsonRow } from './claimed.js';
import type { Context } from './context.js';
import { claimControlledAfter, claimedOf, claimFlows } from './leases.js';

/** Finishes of a batch whose next claims are made as one. */
interface Merged {
  readonly key: string;
  readonly next: NextClaim;
  limit: number;
  now: number;
  /** The finishes' places in the batch, in order. */
  readonly at: number[];
}

/** What makes two next claims one: all but the limit. */
function claimKey(next: NextClaim): string {
  const park = next.park === true ? 1 : 0;
  return `${next.workerId}\u0000${next.leaseMs}\u0000${park}\u0000${next.types.join('\u0000')}\u0001${next.queues.join('\u0000')}`;
}

/** Whether a finish of `writes` asks for a next claim. */
export function asksNext(writes: readonly BatchWrite[]): boolean {
  for (const write of writes) if (write.op === 'finish' && write.request.next !== undefined) return true;
  return false;
}

/** The next claims of one batch (see the module notes). */
export class NextClaims {
  readonly #ctx: Context;
  readonly #writes: readonly BatchWrite[];
  readonly #outcomes: BatchOutcome[];
  /** The claim that rode in the last statement, and what the statement answered for it. */
  #rode: { key: string; limit: number; now: number; row: ClaimJsonRow } | undefined;

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
    const [first] = this.#merged(new Set(pending)).values();
    if (!first) return undefined;
    if (first.next.park === true) this.#ctx.listener.parking(first.next.workerId);
    return { ...first.next, limit: first.limit, now: first.now };
  }

  /** The last statement made its writes and the rider's claim: `row` is what it claimed. */
  rode(rider: ClaimRequest, row: ClaimJsonRow): void {
    this.#rode = { key: claimKey(rider), limit: rider.limit, now: rider.now, row };
  }

  /**
   * Makes the claims (those that did not ride), and puts each finish's share in its outcome. The
   * writes are made by now: a claim that fails leaves its finishes answered without `claimed`
   * (their workers claim as usual) rather than failing writes that were made.
   */
  async claim(): Promise<void> {
    const rode = this.#rode;
    for (const group of this.#merged(new Set()).values()) {
      const request: ClaimRequest = { ...group.next, limit: group.limit, now: group.now };
      let claimed: ClaimedFlow[];
      try {
        claimed =
          rode && rode.key === group.key && rode.limit === group.limit && rode.now === group.now
            ? await claimControlledAfter(this.#ctx, request, claimedOf(rode.row, request))
            : await claimFlows(this.#ctx, request);
      } catch {
        continue;
      }
      this.#shareOut(group.at, claimed);
    }
  }

  /** The finishes asking for a next claim that succeeded (or are at `pending`), merged. */
  #merged(pending: ReadonlySet<number>): Map<string, Merged> {
    const merged = new Map<string, Merged>();
    const writes = this.#writes;
    for (let i = 0; i < writes.length; i++) {
      const write = writes[i] as BatchWrite;
      if (write.op !== 'finish' || !write.request.next) continue;
      if (!pending.has(i) && !this.#outcomes[i]?.ok) continue;
      const { next, now } = write.request;
      const key = claimKey(next);
      const group = merged.get(key);
      if (group) {
        group.limit += next.limit;
        group.now = Math.max(group.now, now);
        group.at.push(i);
      } else {
        merged.set(key, { key, next, limit: next.limit, now, at: [i] });
      }
    }
    return merged;
  }

  /** Gives `claimed` to the finishes at `at`, in order, each up to its next claim's limit. */
  #shareOut(at: readonly number[], claimed: readonly ClaimedFlow[]): void {
    let from = 0;
    for (const i of at) {
      const { next } = (this.#writes[i] as { request: FinishRequest }).request;
      const take = Math.min(next?.limit ?? 0, claimed.length - from);
      const value: FinishResult = { claimed: claimed.slice(from, from + take) };
      this.#outcomes[i] = { ok: true, value };
      from += take;
    }
  }
}
