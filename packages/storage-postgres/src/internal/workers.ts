/**
 * The worker registry: heartbeats (register, and reap the workers whose
 * heartbeat lapsed, expiring their leases, in one statement), the list, and
 * removal.
 *
 * @module
 */
import type { HeartbeatResult, RemoveWorkerRequest, WorkerHeartbeat, WorkerRecord } from '@ergon/core';
import type { Context } from './context.js';
import { rows } from './db.js';

/** Registers `worker` and reaps the lapsed ones. */
export async function heartbeatWorker(
  { db, q, notifier }: Context,
  request: WorkerHeartbeat,
): Promise<HeartbeatResult> {
  const { worker, now } = request;
  const [row] = await rows(db.urgent, q.heartbeat, {
    id: worker.id,
    kind: worker.kind,
    name: worker.name,
    host: worker.host,
    pid: worker.pid,
    queues: worker.queues,
    types: worker.types,
    concurrency: worker.concurrency,
    startedAt: worker.startedAt,
    stats: worker.stats,
    now,
    before: now - request.lapseMs,
  });
  notifier.send((row?.queues ?? []).map((queue) => ({ type: 'ready', queue })));
  return { reaped: row?.reaped ?? [] };
}

/** The registry, in id order. */
export async function listWorkers({ db, q }: Context): Promise<WorkerRecord[]> {
  // Part of a worker's heartbeat cycle (it looks for dead workers on its host): on the urgent lane.
  return (await rows(db.urgent, q.workers)).map((row) => ({
    id: row.id,
    kind: row.kind === 'task' ? 'task' : 'worker',
    name: row.name ?? undefined,
    host: row.host,
    pid: row.pid,
    queues: row.queues,
    types: row.types,
    concurrency: row.concurrency,
    startedAt: row.started_at,
    lastSeenAt: row.last_seen_at,
    stats: row.stats ?? undefined,
  }));
}

/** Removes a worker; expires its leases when asked. Returns how many. */
export async function removeWorker(
  { db, q, notifier, listener }: Context,
  request: RemoveWorkerRequest,
): Promise<number> {
  listener.unparked(request.workerId);
  const [row] = await rows(db.pool, q.removeWorker, {
    id: request.workerId,
    now: request.now,
    expire: request.expireLeases,
  });
  notifier.send((row?.queues ?? []).map((queue) => ({ type: 'ready', queue })));
  return row?.expired ?? 0;
}
