/**
 * The worker registry (in the home partition) and its reaping: a worker
 * declared dead has its leases expired in the home partition by the same
 * script, and then in every other partition (`expire-leases-1.lua`), whose
 * admitted runs free their slots in the home partition. Between the two steps
 * nothing is lost: a lease not yet expired there still expires by itself.
 *
 * @module
 */
import type { HeartbeatResult, RemoveWorkerRequest, WorkerHeartbeat, WorkerRecord } from '@ergon/core';
import type { AdmittedRun } from './admission.js';
import { decodeWorker } from './codec.js';
import type { StoreCore } from './core.js';
import { HOME } from './partitions.js';

/** Implements the contract's `heartbeatWorker`. */
export async function heartbeatWorker(core: StoreCore, request: WorkerHeartbeat): Promise<HeartbeatResult> {
  const { worker, now } = request;
  const home = core.layout.keys(HOME);
  const record: WorkerRecord = { ...worker, lastSeenAt: now };
  const reaped = (await core.runner.write(
    'heartbeat-worker',
    home,
    [home.workers, home.workersSeen],
    [worker.id, JSON.stringify(record), String(now), String(now - request.lapseMs)],
  )) as string[];
  if (reaped.length > 0) await expireElsewhere(core, reaped, now);
  return { reaped };
}

/** Implements the contract's `listWorkers`. */
export async function listWorkers(core: StoreCore): Promise<WorkerRecord[]> {
  const hash = await core.client.hgetall(core.layout.keys(HOME).workers);
  return Object.keys(hash)
    .sort()
    .map((id) => decodeWorker(id, hash[id] as string));
}

/** Implements the contract's `removeWorker`. */
export async function removeWorker(core: StoreCore, request: RemoveWorkerRequest): Promise<number> {
  core.parked.delete(request.workerId);
  const home = core.layout.keys(HOME);
  const expired = Number(
    await core.runner.write(
      'remove-worker',
      home,
      [home.workers, home.workersSeen],
      [request.workerId, String(request.now), request.expireLeases ? '1' : '0'],
    ),
  );
  if (!request.expireLeases) return expired;
  return expired + (await expireElsewhere(core, [request.workerId], request.now));
}

/** Expires the dead workers' leases in the partitions other than home; how many. */
async function expireElsewhere(core: StoreCore, workers: readonly string[], now: number): Promise<number> {
  if (!core.partitioned) return 0;
  core.tracker.hint(HOME, {});
  const freed: AdmittedRun[] = [];
  const counts = await Promise.all(
    core.layout.parts.map(async (keys, p) => {
      if (p === HOME) return 0;
      const [expired, ...admitted] = (await core.runner.write(
        'expire-leases',
        keys,
        [keys.created],
        [String(now), ...workers],
      )) as [number, ...string[]];
      for (let i = 0; i + 1 < admitted.length; i += 2)
        freed.push({ queue: admitted[i] as string, member: admitted[i + 1] as string });
      if (Number(expired) > 0) core.tracker.hint(p, {});
      return Number(expired);
    }),
  );
  await core.admission.release(freed);
  return counts.reduce((sum, n) => sum + n, 0);
}
