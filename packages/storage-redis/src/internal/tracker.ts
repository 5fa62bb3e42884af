/**
 * What one store instance knows of each partition's claimable flows, so a
 * claim goes only where there is work, best first, and an idle partition
 * costs nothing: per claim filter (queues × types) and partition, the best
 * ready entry, how many are ready and the next due time, as the partition's
 * last claim or peek reported them, plus hints since: flows this store made
 * ready, and `ready` events of other processes (which carry the flow's place
 * in the claim order). A view with unknown contents (never visited, too old,
 * or changed in a way no hint describes) is dirty: a claim peeks it first when
 * the order between partitions matters.
 *
 * @module
 */
import { HOME } from './partitions.js';

/** How long a view is trusted without a visit: a safety net for events lost in a reconnect. */
export const VIEW_TTL_MS = 5000;

/** A flow's place in a partition's claim order: priority (higher first), then `member`. */
export interface Entry {
  readonly priority: number;
  /** The ready-set member: 16 digits of its place (runAt or fair tag), then the id. */
  readonly member: string;
  /** When it is claimable (ms, the caller's clock): its runAt, or 0 for now. */
  readonly at: number;
}

/** What a claim or a peek of one partition reports (`claim-1.lua`). */
export interface PartitionReport {
  readonly head: Entry | undefined;
  readonly count: number;
  readonly wake: number | undefined;
}

/** The queues and types of a claim, and whether its queues are claimed under admission. */
export interface ClaimFilter {
  readonly key: string;
  readonly queues: ReadonlySet<string>;
  readonly types: ReadonlySet<string>;
  /** Claims of limited queues with a quota from the home partition (non-home partitions report them). */
  readonly admitted: boolean;
}

/** A partition worth visiting for a claim. */
export interface Candidate {
  readonly partition: number;
  /** Its best claimable entry, when known (unknown: peek first to order). */
  readonly best: Entry | undefined;
  /** About how many flows it could give (an upper bound; unknown: Infinity). */
  readonly count: number;
}

interface View {
  dirty: boolean;
  /** A run stopped since the report: `wake` (a lease expiry) may be later now. */
  wakeStale: boolean;
  head: Entry | undefined;
  count: number;
  wake: number | undefined;
  /** Hinted entries since the report: how many, the best, the earliest time one is claimable. */
  hints: number;
  hintBest: Entry | undefined;
  hintWake: number;
  seenAt: number;
}

/**
 * A change of one partition: an entry of `queue` and `type` became claimable (at its `at`);
 * a run of theirs stopped (`stopped`: its lease expiry no longer wakes anyone); or, with
 * neither, anything of `queue` (or of every queue) may have changed.
 */
export interface Hint {
  readonly queue?: string | undefined;
  readonly type?: string | undefined;
  readonly entry?: Entry | undefined;
  readonly stopped?: boolean | undefined;
}

/** Claim order: higher priority first, then the smaller member. */
export function before(a: Entry, b: Entry): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.member < b.member;
}

const MAX_FILTERS = 64;
const LOG_SIZE = 256;
/** Entries this store hinted itself, whose `ready` events (its own, coming back) are skipped. */
const ECHOES = 10_000;

const dirtyView = (): View => ({
  dirty: true,
  wakeStale: false,
  head: undefined,
  count: 0,
  wake: undefined,
  hints: 0,
  hintBest: undefined,
  hintWake: Number.POSITIVE_INFINITY,
  seenAt: 0,
});

/** The views of one store instance. */
export class PartitionTracker {
  readonly #count: number;
  readonly #limited: (queue: string) => boolean;
  readonly #views = new Map<string, { filter: ClaimFilter; views: View[] }>();
  readonly #seq: number[];
  readonly #log: { seq: number; hint: Hint }[][];
  readonly #echoes = new Set<string>();

  /** @param limited whether a queue has limits, so non-home partitions leave it to admission. */
  constructor(count: number, limited: (queue: string) => boolean) {
    this.#count = count;
    this.#limited = limited;
    this.#seq = new Array(count).fill(0);
    this.#log = Array.from({ length: count }, () => []);
  }

  /** The filter of a claim (one per set of queues and types). */
  filter(queues: readonly string[], types: readonly string[], admitted = false): ClaimFilter {
    const key = `${admitted ? 'a' : 'f'}\n${[...queues].sort().join('\u0000')}\n${[...types].sort().join('\u0000')}`;
    const known = this.#views.get(key);
    if (known) {
      this.#views.delete(key);
      this.#views.set(key, known); // most recently used last
      return known.filter;
    }
    const filter: ClaimFilter = { key, queues: new Set(queues), types: new Set(types), admitted };
    this.#views.set(key, { filter, views: Array.from({ length: this.#count }, dirtyView) });
    if (this.#views.size > MAX_FILTERS) this.#views.delete(this.#views.keys().next().value as string);
    return filter;
  }

  /** Call before a visit of partition `p`; pass the result to {@link report}. */
  begin(p: number): number {
    return this.#seq[p] ?? 0;
  }

  /** A visit's report: the view becomes it, plus every hint that came during the visit. */
  report(filter: ClaimFilter, p: number, report: PartitionReport, begun: number): void {
    const views = this.#views.get(filter.key)?.views;
    if (!views) return;
    const view: View = { ...dirtyView(), dirty: false, ...report, seenAt: performance.now() };
    views[p] = view;
    const log = this.#log[p] ?? [];
    if ((this.#seq[p] ?? 0) > begun && (log[0]?.seq ?? Number.POSITIVE_INFINITY) > begun + 1) {
      view.dirty = true; // hints were dropped from the log: unknown
      return;
    }
    for (const { seq, hint } of log) if (seq > begun) this.#apply(filter, view, p, hint);
  }

  /**
   * Something changed in partition `p` (see {@link Hint}): told by this store (`local`), or by a
   * `ready` event (`event`). The event of a change this store told already is skipped: applied
   * twice, it would keep a claimed flow in the view after the claim's report.
   */
  hint(p: number, hint: Hint, from: 'local' | 'event' = 'local'): void {
    if (hint.entry) {
      const key = `${p}\n${hint.entry.member}`;
      if (from === 'event' && this.#echoes.delete(key)) return;
      if (from === 'local') {
        this.#echoes.add(key);
        if (this.#echoes.size > ECHOES) this.#echoes.delete(this.#echoes.values().next().value as string);
      }
    }
    const seq = (this.#seq[p] ?? 0) + 1;
    this.#seq[p] = seq;
    const log = this.#log[p];
    if (log) {
      log.push({ seq, hint });
      if (log.length > LOG_SIZE) log.shift();
    }
    for (const { filter, views } of this.#views.values()) {
      const view = views[p];
      if (view) this.#apply(filter, view, p, hint);
    }
  }

  /** Every view unknown (the event subscription was re-established: events may have been lost). */
  forgetAll(): void {
    for (const { views } of this.#views.values())
      for (let i = 0; i < views.length; i++) views[i] = dirtyView();
  }

  /** The partitions worth visiting for `filter` at `now` (the caller's clock), unordered. */
  candidates(filter: ClaimFilter, now: number, skip?: number): Candidate[] {
    const views = this.#viewsOf(filter);
    const out: Candidate[] = [];
    for (const [p, view] of views.entries()) {
      if (p === skip) continue;
      if (view.dirty || (view.wake !== undefined && view.wake <= now)) {
        out.push({ partition: p, best: undefined, count: Number.POSITIVE_INFINITY });
        continue;
      }
      let count = view.count;
      let best = view.head;
      if (view.hints > 0 && view.hintWake <= now) {
        count += view.hints;
        // The best hinted entry is known to be claimable only if it is due itself.
        if (view.hintBest && view.hintBest.at <= now) {
          if (!best || before(view.hintBest, best)) best = view.hintBest;
        } else {
          out.push({ partition: p, best: undefined, count: Number.POSITIVE_INFINITY });
          continue;
        }
      }
      if (count > 0) out.push({ partition: p, best, count });
    }
    return out;
  }

  /**
   * The earliest time a flow of `filter` is claimable as far as the views know, and the
   * partitions whose views are unknown (visit them first).
   */
  nextWake(filter: ClaimFilter, skip?: number): { at: number | undefined; unknown: number[] } {
    let at: number | undefined;
    const unknown: number[] = [];
    const earlier = (t: number | undefined) => {
      if (t !== undefined && Number.isFinite(t) && (at === undefined || t < at)) at = t;
    };
    for (const [p, view] of this.#viewsOf(filter).entries()) {
      if (p === skip) continue;
      if (view.dirty || view.wakeStale) {
        unknown.push(p);
        continue;
      }
      if (view.count > 0) earlier(view.head?.at ?? 0);
      earlier(view.wake);
      if (view.hints > 0) earlier(view.hintWake);
    }
    return { at, unknown };
  }

  #viewsOf(filter: ClaimFilter): View[] {
    const views = this.#views.get(filter.key)?.views ?? [];
    const stale = performance.now() - VIEW_TTL_MS;
    for (const view of views) if (!view.dirty && view.seenAt < stale) view.dirty = true;
    return views;
  }

  #apply(filter: ClaimFilter, view: View, p: number, hint: Hint): void {
    if (view.dirty) return;
    if (hint.queue !== undefined) {
      if (!filter.queues.has(hint.queue)) return;
      if (p !== HOME && !filter.admitted && this.#limited(hint.queue)) return;
    }
    if (hint.type !== undefined && !filter.types.has(hint.type)) return;
    if (hint.stopped) view.wakeStale = true;
    const entry = hint.entry;
    if (!entry) {
      if (!hint.stopped) view.dirty = true;
      return;
    }
    view.hints += 1;
    if (!view.hintBest || before(entry, view.hintBest)) view.hintBest = entry;
    view.hintWake = Math.min(view.hintWake, entry.at);
  }
}
