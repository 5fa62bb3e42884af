/**
 * The flows this store instance claimed and still runs: where each lives,
 * and what a claim order hint or a release of its admitted slot needs. The
 * lease holder's calls (renew, record, suspend, finish, release) come through
 * the store that claimed, so they find their flow here without a lookup.
 *
 * @module
 */
import type { AdmittedRun } from './admission.js';

/** A flow this store claimed. */
export interface HeldFlow {
  readonly partition: number;
  readonly queue: string;
  readonly type: string;
  readonly priority: number;
  readonly token: number;
  /** Its slot in the home partition, when the run was admitted there (`admission.ts`). */
  readonly admitted: AdmittedRun | undefined;
  /**
   * Claimed without a parent, abandons, lastError or error: its finish is "plain"
   * (`scripts/includes/finish.lua`), reading and deleting none of them. None of them changes
   * while the lease holds (a parent never does; abandons and lastError change under a new token
   * or with the flow no longer running; an error comes with a cancel request, which the finish
   * reads), so this holds for any write the fence lets through.
   */
  readonly plain: boolean;
}

/** Most flows remembered: far above any worker's concurrency; the oldest go first. */
const LIMIT = 100_000;

/** Flows held by this store instance, by id. */
export class HeldFlows {
  readonly #flows = new Map<string, HeldFlow>();

  set(id: string, flow: HeldFlow): void {
    this.#flows.delete(id);
    this.#flows.set(id, flow);
    if (this.#flows.size > LIMIT) this.#flows.delete(this.#flows.keys().next().value as string);
  }

  /** The flow, if this store holds it under `token`. */
  get(id: string, token: number): HeldFlow | undefined {
    const flow = this.#flows.get(id);
    return flow && flow.token === token ? flow : undefined;
  }

  /** True when the flow is held under `token` and plain ({@link HeldFlow.plain}). */
  plain(id: string, token: number): boolean {
    return this.get(id, token)?.plain === true;
  }

  /** Forgets the flow (its run stopped or was lost); returns what was held under `token`. */
  take(id: string, token: number): HeldFlow | undefined {
    const flow = this.get(id, token);
    if (flow) this.#flows.delete(id);
    return flow;
  }
}
