/**
 * How history rows are keyed (schema version 2). A record's key is one
 * integer, `num × 2^20 + position`, where `num` is its flow's stable integer
 * key (`flows.num`, the rowid). So `history` is a rowid table: a flow's
 * records sit together in position order, and writing the next record of the
 * newest flow is an append at the right edge of the table's b-tree, which
 * SQLite does by writing one leaf page (a new page now and then) — the same
 * as an insert into a plain table. Keyed by `(flow_id, position)` without
 * rowid, as in version 1, every dozen records or so also rewrote three
 * sibling pages and their parent: a third more pages per commit.
 *
 * Keys stay below 2^53, so they are exact JavaScript numbers. A record that
 * does not fit (position ≥ 2^20, or a flow numbered ≥ 2^33) is "spilled": it
 * gets a negative key, and the partial unique index `history_spilled` on
 * `(flow_id, position)` keeps it unique. Neither happens in practice (a flow
 * with a million operations could not be replayed in reasonable time), but
 * nothing breaks when it does.
 *
 * @module
 */
import { type Kysely, type Migration, sql } from 'kysely';

/** Positions below this are packed into the key. */
export const PACKED_POSITIONS = 2 ** 20;
/** Flows numbered below this have packed keys. */
export const PACKED_FLOWS = 2 ** 33;

/** The packed key of a record, or undefined when it is spilled. */
export function historyId(num: number, position: number): number | undefined {
  return num < PACKED_FLOWS && position < PACKED_POSITIONS ? num * PACKED_POSITIONS + position : undefined;
}

/** The packed keys of a flow's records: `[first, last]`, or undefined when all are spilled. */
export function historyRange(num: number): readonly [number, number] | undefined {
  return num < PACKED_FLOWS
    ? [num * PACKED_POSITIONS, num * PACKED_POSITIONS + PACKED_POSITIONS - 1]
    : undefined;
}

/**
 * Migration 2: gives flows a stable integer key (`num INTEGER PRIMARY KEY`, the
 * rowid that version 1 already had, now kept across `VACUUM`) and rekeys
 * history by it. Both tables are rebuilt in the migration's transaction; rows,
 * column order and indexes are otherwise unchanged, and the status checks
 * allow the same values (see {@link oneOf}).
 */
export const historyKeys: Migration = {
  async up(db) {
    await createFlowsTable(db, 'flows_v2');
    const columns = sql.raw(FLOW_COLUMNS.join(', '));
    await sql`insert into flows_v2 (num, ${columns}) select rowid, ${columns} from flows order by rowid`.execute(
      db,
    );
    await sql`drop table flows`.execute(db);
    await sql`alter table flows_v2 rename to flows`.execute(db);
    await createFlowIndexes(db);

    await createHistoryTable(db, 'history_v2');
    const fields = sql.raw(HISTORY_COLUMNS.map((c) => `h.${c}`).join(', '));
    const names = sql.raw(HISTORY_COLUMNS.join(', '));
    const fits = sql`f.num < ${sql.lit(PACKED_FLOWS)} and h.position >= 0 and h.position < ${sql.lit(PACKED_POSITIONS)}`;
    await sql`insert into history_v2 (id, ${names})
      select f.num * ${sql.lit(PACKED_POSITIONS)} + h.position, ${fields}
      from history h join flows f on f.id = h.flow_id where ${fits}`.execute(db);
    // Records that do not fit, and any whose flow row is gone, keep their data under negative keys.
    await sql`insert into history_v2 (id, ${names})
      select -row_number() over (order by h.flow_id, h.position), ${fields}
      from history h left join flows f on f.id = h.flow_id where f.num is null or not (${fits})`.execute(db);
    await sql`drop table history`.execute(db);
    await sql`alter table history_v2 rename to history`.execute(db);
    await db.schema
      .createIndex('history_spilled')
      .unique()
      .on('history')
      .columns(['flow_id', 'position'])
      .where(sql.ref('id'), '<', 0)
      .execute();
  },
};

/** The columns of `flows` besides `num` (the generated `wake_at` excepted), in table order. */
const FLOW_COLUMNS = [
  'id',
  'type',
  'queue',
  'status',
  'priority',
  'fencing_token',
  'cancel_requested',
  'run_count',
  'run_at',
  'lease_owner',
  'lease_expires_at',
  'parent_id',
  'created_at',
  'updated_at',
  'finished_at',
  'waits',
  'trace_context',
  'error',
  'result',
  'input',
];

/** The columns of `history` besides `id`, in table order. */
const HISTORY_COLUMNS = [
  'flow_id',
  'position',
  'key',
  'kind',
  'status',
  'attempts',
  'seq',
  'wake_at',
  'started_at',
  'finished_at',
  'error',
  'result',
];

/**
 * `column = 'a' or column = 'b' or …`: the same constraint as `column in (…)`, but SQLite
 * checks an `IN` list of three or more values by building a temporary b-tree on every
 * row written (a page allocated and cleared, about a sixth of a step's instructions).
 */
function oneOf(column: string, values: readonly string[]) {
  return sql.join(
    values.map((value) => sql`${sql.ref(column)} = ${sql.lit(value)}`),
    sql` or `,
  );
}

async function createFlowsTable(db: Kysely<unknown>, name: string): Promise<void> {
  // Small, hot columns first and encoded values last: a fencing check reads only the
  // start of the row and never walks the overflow pages of a large input or result.
  await db.schema
    .createTable(name)
    .addColumn('num', 'integer', (c) => c.primaryKey())
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .check(oneOf('status', ['pending', 'running', 'suspended', 'completed', 'failed', 'cancelled'])),
    )
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('fencing_token', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('run_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('run_at', 'integer')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'integer')
    // The one time a flow becomes claimable by time alone; indexed for claims and wake-ups.
    .addColumn('wake_at', 'integer', (c) =>
      c.generatedAlwaysAs(
        sql`case when status in ('pending','suspended') then run_at when status = 'running' then coalesce(lease_expires_at, 0) end`,
      ),
    )
    .addColumn('parent_id', 'text')
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .addColumn('finished_at', 'integer')
    .addColumn('waits', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('trace_context', 'text')
    .addColumn('error', 'text')
    .addColumn('result', 'text')
    .addColumn('input', 'text', (c) => c.notNull())
    .execute();
}

/** The indexes of version 1, unchanged (dropping the old table dropped them). */
async function createFlowIndexes(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('flows_claim')
    .on('flows')
    .columns(['queue', 'type', 'priority desc', 'run_at', 'id', 'wake_at'])
    .where('wake_at', 'is not', null)
    .execute();
  await db.schema
    .createIndex('flows_wake')
    .on('flows')
    .columns(['queue', 'type', 'wake_at'])
    .where('wake_at', 'is not', null)
    .execute();
  await db.schema.createIndex('flows_created').on('flows').columns(['created_at', 'id']).execute();
  await db.schema
    .createIndex('flows_parent')
    .on('flows')
    .column('parent_id')
    .where('parent_id', 'is not', null)
    .execute();
  await db.schema
    .createIndex('flows_finished')
    .on('flows')
    .column('finished_at')
    .where('finished_at', 'is not', null)
    .execute();
}

async function createHistoryTable(db: Kysely<unknown>, name: string): Promise<void> {
  await db.schema
    .createTable(name)
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('flow_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(oneOf('status', ['completed', 'failed', 'waiting'])),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull())
    // The engine's recording order of final records; stored as given.
    .addColumn('seq', 'integer')
    .addColumn('wake_at', 'integer')
    .addColumn('started_at', 'integer', (c) => c.notNull())
    .addColumn('finished_at', 'integer')
    .addColumn('error', 'text')
    .addColumn('result', 'text')
    .execute();
}
