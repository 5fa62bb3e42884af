/**
 * The flows this connection claimed, by id: each one's row key (`num`), the
 * token of the claim, and the two columns its end needs (`queue`, `parent_id`;
 * neither ever changes). The end of a flow claimed here is then one UPDATE by
 * row key with the fencing check in its WHERE, and no RETURNING (SQLite
 * gathers returned rows in an ephemeral table, made and dropped per statement),
 * instead of a seek of the `id` index and a returned row.
 *
 * What is kept is a hint, never the truth: the statement checks the id, the
 * token and the status itself, and when it changes no row the end takes the
 * usual path (which says why). So an entry may outlive its claim (a claim
 * rolled back, a lease lost): it costs only the fast path. The map is bounded:
 * past {@link HELD_MAX} entries (flows claimed here and ended elsewhere) it is
 * emptied.
 *
 * @module
 */

/** Entries kept at most; past it the map starts again empty. */
export const HELD_MAX = 8192;

/** A flow claimed through this connection. */
export interface HeldFlow {
  readonly id: string;
  readonly num: number;
  readonly token: number;
  readonly queue: string;
  readonly parent_id: string | null;
}

/** See the module notes. */
export class HeldFlows {
  readonly #flows = new Map<string, HeldFlow>();

  /** The flow was claimed here under `flow.token`. */
  claimed(flow: HeldFlow): void {
    if (this.#flows.size >= HELD_MAX) this.#flows.clear();
    this.#flows.set(flow.id, flow);
  }

  /** The flow if it was claimed here under `token`, else undefined. */
  get(id: string, token: number): HeldFlow | undefined {
    const flow = this.#flows.get(id);
    return flow !== undefined && flow.token === token ? flow : undefined;
  }

  /** The flow's run here ended (finished, suspended, released): forget it. */
  ended(id: string): void {
    this.#flows.delete(id);
  }
}
