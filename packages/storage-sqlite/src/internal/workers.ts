/**
 * The worker registry on SQLite: the `workers` table (schema version 3) and
 * the reaping of workers whose heartbeat lapsed, whose leases are expired in
 * the same transaction.
 *
 * @module
 */
import type { RemoveWorkerRequest, WorkerHeartbeat, WorkerRecord } from '@ergon/core';
import type Database from 'better-sqlite3';
import { type Compilable, type Kysely, type Migration, sql } from 'kysely';
import type { TxContext } from './queries.js';
import type { Schema } from './schema.js';
import { Prepared, param } from './statements.js';

/** A row of the `workers` table. */
export interface WorkersTable {
  id: string;
  kind: string;
  name: string | null;
  host: string;
  pid: number;
  /** JSON arrays. */
  queues: string;
  types: string;
  concurrency: number;
  started_at: number;
  last_seen_at: number;
  stats: string | null;
}

/** Schema version 3: the worker registry, and an index of running flows by lease owner. */
export const workersMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('workers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('queues', 'text', (c) => c.notNull())
      .addColumn('types', 'text', (c) => c.notNull())
      .addColumn('concurrency', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'integer', (c) => c.notNull())
      .addColumn('last_seen_at', 'integer', (c) => c.notNull())
      .addColumn('stats', 'text')
      .execute();
    await db.schema.createIndex('workers_seen').on('workers').column('last_seen_at').execute();
    // Reaping finds a dead worker's running flows without scanning every flow (until version 10).
    await db.schema
      .createIndex('flows_held')
      .on('flows')
      .column('lease_owner')
      .where(sql.ref('status'), '=', 'running')
      .execute();
  },
};

/** The registry's prepared statements. */
export function prepareWorkerQueries(db: Database.Database, k: Kysely<Schema>) {
  const p = <Row = unknown>(query: Compilable) => new Prepared<Row>(db, query);
  const str = (name: string) => param<string>(name);
  const num = (name: string) => param<number>(name);
  const nullableStr = (name: string) => param<string | null>(name);
  return {
    upsertWorker: p(
      k
        .insertInto('workers')
        .values({
          id: str('id'),
          kind: str('kind'),
          name: nullableStr('name'),
          host: str('host'),
          pid: num('pid'),
          queues: str('queues'),
          types: str('types'),
          concurrency: num('concurrency'),
          started_at: num('startedAt'),
          last_seen_at: num('now'),
          stats: nullableStr('stats'),
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            kind: eb.ref('excluded.kind'),
            name: eb.ref('excluded.name'),
            host: eb.ref('excluded.host'),
            pid: eb.ref('excluded.pid'),
            queues: eb.ref('excluded.queues'),
            types: eb.ref('excluded.types'),
            concurrency: eb.ref('excluded.concurrency'),
            started_at: eb.ref('excluded.started_at'),
            last_seen_at: eb.ref('excluded.last_seen_at'),
            stats: eb.ref('excluded.stats'),
          })),
        ),
    ),
    lastSeen: p<{ last_seen_at: number }>(
      k.selectFrom('workers').select('last_seen_at').where('id', '=', str('id')),
    ),
    lapsedWorkers: p<{ id: string }>(
      k.selectFrom('workers').select('id').where('last_seen_at', '<', num('before')),
    ),
    deleteWorker: p(k.deleteFrom('workers').where('id', '=', str('id'))),
    workers: p<WorkersTable>(k.selectFrom('workers').selectAll().orderBy('id')),
    // Every running flow, in flows_running (schema version 10): the owner is its last column.
    expireHeld: p<{ queue: string }>({
      compile: () =>
        sql`update flows indexed by flows_running set lease_expires_at = ${num('now')}
            where status = 'running' and lease_owner = ${str('owner')} and lease_expires_at > ${num('now')}
            returning queue`.compile(k),
    }),
  };
}

/** Registers `worker` and reaps the lapsed ones; returns their ids. Runs in a write transaction. */
export function heartbeatWorker(ctx: TxContext, request: WorkerHeartbeat): string[] {
  const { q } = ctx;
  const { worker, now } = request;
  // Never back in time; a worker that lapsed itself judges no one this beat (see the contract).
  const previous = q.lastSeen.get({ id: worker.id })?.last_seen_at;
  if (previous !== undefined && previous > now) return [];
  q.upsertWorker.run({
    id: worker.id,
    kind: worker.kind,
    name: worker.name ?? null,
    host: worker.host,
    pid: worker.pid,
    queues: JSON.stringify(worker.queues),
    types: JSON.stringify(worker.types),
    concurrency: worker.concurrency,
    startedAt: worker.startedAt,
    now,
    stats: worker.stats ?? null,
  });
  if (previous !== undefined && previous < now - request.lapseMs) return [];
  const lapsed = q.lapsedWorkers.all({ before: now - request.lapseMs });
  for (const { id } of lapsed) {
    q.deleteWorker.run({ id });
    expireLeases(ctx, id, now);
  }
  return lapsed.map((w) => w.id);
}

/** Removes a worker; expires its leases when asked. Returns how many. Runs in a write transaction. */
export function removeWorker(ctx: TxContext, request: RemoveWorkerRequest): number {
  ctx.q.deleteWorker.run({ id: request.workerId });
  return request.expireLeases ? expireLeases(ctx, request.workerId, request.now) : 0;
}

/** The registry, in id order. */
export function listWorkers({ q }: TxContext): WorkerRecord[] {
  return q.workers.all({}).map((row) => ({
    id: row.id,
    kind: row.kind === 'task' ? 'task' : 'worker',
    name: row.name ?? undefined,
    host: row.host,
    pid: row.pid,
    queues: JSON.parse(row.queues) as string[],
    types: JSON.parse(row.types) as string[],
    concurrency: row.concurrency,
    startedAt: row.started_at,
    lastSeenAt: row.last_seen_at,
    stats: row.stats ?? undefined,
  }));
}

/** `lease = now` for every flow `owner` runs; a ready event per queue. */
function expireLeases(ctx: TxContext, owner: string, now: number): number {
  const expired = ctx.q.expireHeld.all({ owner, now });
  for (const queue of new Set(expired.map((row) => row.queue))) ctx.emit({ type: 'ready', queue });
  return expired.length;
}
