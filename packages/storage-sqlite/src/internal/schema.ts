/**
 * The database schema as Kysely sees it: a row type per table. The tables are
 * created and upgraded by the migrations in `migrations.ts`.
 *
 * No foreign keys: every write that adds history or signals first reads the
 * flow row in the same transaction (or the same statement), and purge deletes children
 * explicitly, so a foreign-key check would only add a lookup to the hot path.
 *
 * @module
 */
import type { ColumnType, Generated } from 'kysely';
import type { WorkersTable } from './workers.js';

/**
 * A flow row. `wake_at` is generated: when the flow becomes claimable, or NULL.
 * `num` is the row's stable integer key (from schema version 2): history keys derive from it.
 */
export interface FlowsTable {
  num: Generated<number>;
  id: string;
  type: string;
  queue: string;
  status: string;
  priority: number;
  input: string;
  result: string | null;
  error: string | null;
  parent_id: string | null;
  run_at: number | null;
  wake_at: ColumnType<number | null, never, never>;
  fencing_token: Generated<number>;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** JSON array of `Wait`s, written and read by the store only. */
  waits: Generated<string>;
  cancel_requested: Generated<number>;
  run_count: Generated<number>;
  /** Runs in a row abandoned without progress (schema version 4); see `FlowRecord.abandonedRuns`. */
  abandoned_runs: Generated<number>;
  /** The encoded error of the last abandoned run (schema version 4). */
  last_error: string | null;
  /** The latest progress the flow reported, encoded (schema version 5); see `FlowRecord.progress`. */
  progress: string | null;
  /** When `progress` was written (schema version 5). */
  progress_at: number | null;
  trace_context: string | null;
  /** Flow control (schema version 6, `flow-control.ts`): the flow's concurrency key. */
  concurrency_key: string | null;
  /** Its own per-key running limit (schema version 6). */
  concurrency_limit: number | null;
  /** The debounce key it was created with (schema version 6). */
  debounce_key: string | null;
  /** Its fair-queueing tag in a controlled queue (schema version 6). */
  fair_tag: number | null;
  /** 1 when the flow's queue is controlled, so it is in the fair index (schema version 12, `fair-index.ts`). */
  controlled: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/**
 * A history row. `id` is the key: {@link historyId} of the flow's `num` and the position
 * (unique per `(flow_id, position)`), or negative for a record that does not fit it (unique
 * through the partial index `history_spilled`).
 */
export interface HistoryTable {
  id: number;
  flow_id: string;
  position: number;
  key: string;
  kind: string;
  status: string;
  attempts: number;
  seq: number | null;
  wake_at: number | null;
  started_at: number;
  finished_at: number | null;
  error: string | null;
  result: string | null;
}

/** A buffered signal; `seq` orders signals first in, first out. */
export interface SignalsTable {
  seq: Generated<number>;
  flow_id: string;
  name: string;
  payload: string;
  sent_at: number;
}

/** The change feed other processes read to turn commits into store events. */
export interface EventsTable {
  seq: Generated<number>;
  /** The writing process, so a process skips the events it already emitted. */
  origin: string;
  type: string;
  queue: string | null;
  flow_id: string | null;
  status: string | null;
  at: number | null;
  /** Type `batch` (schema version 9): the events of one commit, as JSON (`feed.ts`). */
  batch: string | null;
}

/** The tables as Kysely sees them. */
export interface Schema {
  flows: FlowsTable;
  history: HistoryTable;
  signals: SignalsTable;
  events: EventsTable;
  workers: WorkersTable;
}
