/**
 * The candidates of a claim of a controlled queue (`flow-control-claim.ts`):
 * `fcCandidates` and `fcExpired` return each ready flow as one JSON array
 * (`json_array`, plucked) rather than a row object, which better-sqlite3
 * builds with a V8 call per property (~2.8k instructions for each of the
 * seven). A claim parses a row only when it comes to it: a page is read
 * whole, but a claim usually stops partway through it.
 *
 * @module
 */
import type { FairCandidate } from './flow-control-queries.js';

/** A candidate as read: its JSON text (parsed on first look) or already a row. */
export type CandidateEntry = string | FairCandidate;

/** The candidate of an entry, parsing its JSON text if it is still text. */
export function candidateOf(entry: CandidateEntry): FairCandidate {
  if (typeof entry !== 'string') return entry;
  // The column order of `fcCandidates` and `fcExpired`.
  const [num, id, priority, fair_tag, run_at, concurrency_key, concurrency_limit] = JSON.parse(entry) as [
    number,
    string,
    number,
    number | null,
    number,
    string | null,
    number | null,
  ];
  return { num, id, priority, fair_tag, run_at, concurrency_key, concurrency_limit };
}

/** Priority descending, then fair tag, run_at and id ascending: the order of `flows_controlled`. */
export function fairOrder(a: FairCandidate, b: FairCandidate): number {
  return (
    b.priority - a.priority ||
    (a.fair_tag ?? 0) - (b.fair_tag ?? 0) ||
    a.run_at - b.run_at ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}
