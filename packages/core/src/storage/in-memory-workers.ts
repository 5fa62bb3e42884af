/**
 * The in-memory store's worker registry (see `workers.ts`): registrations by
 * id, heartbeats that declare lapsed workers dead, removal. Expiring a dead
 * worker's leases is the store's part, passed in.
 *
 * @module
 */
import type { HeartbeatResult, RemoveWorkerRequest, WorkerHeartbeat, WorkerRecord } from './workers.js';

/** Expires the leases `owner` holds at `now`; returns how many. */
export type ExpireLeases = (owner: string, now: number) => number;

/** The registry of one in-memory store. */
export class MemoryWorkerRegistry {
  readonly #workers = new Map<string, WorkerRecord>();
  readonly #expire: ExpireLeases;

  constructor(expire: ExpireLeases) {
    this.#expire = expire;
  }

  /** {@inheritDoc ExecutionLog.heartbeatWorker} */
  heartbeat(request: WorkerHeartbeat): HeartbeatResult {
    const { now } = request;
    const previous = this.#workers.get(request.worker.id)?.lastSeenAt;
    if (previous !== undefined && previous > now) return { reaped: [] };
    this.#workers.set(request.worker.id, Object.freeze({ ...request.worker, lastSeenAt: now }));
    if (previous !== undefined && previous < now - request.lapseMs) return { reaped: [] };
    const reaped: string[] = [];
    for (const worker of [...this.#workers.values()]) {
      if (worker.lastSeenAt >= now - request.lapseMs) continue;
      this.#workers.delete(worker.id);
      this.#expire(worker.id, now);
      reaped.push(worker.id);
    }
    return { reaped };
  }

  /** The registered workers, in id order. */
  list(): WorkerRecord[] {
    return [...this.#workers.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** {@inheritDoc ExecutionLog.removeWorker} */
  remove(request: RemoveWorkerRequest): number {
    this.#workers.delete(request.workerId);
    return request.expireLeases ? this.#expire(request.workerId, request.now) : 0;
  }
}
