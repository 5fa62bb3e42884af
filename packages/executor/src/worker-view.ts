/**
 * What clients read about the live workers: the store's registry joined with
 * the running flows each one holds.
 *
 * @module
 */
import type { RuntimeExecutionLog, WorkerRecord } from '@ergon/core';

/** A flow a worker holds under its lease. */
export interface HeldFlow {
  /** The flow. */
  readonly flowId: string;
  /** Its type. */
  readonly type: string;
  /** When the lease expires unless renewed (ms since epoch). */
  readonly leaseExpiresAt: number | undefined;
}

/** A registered worker, for people and tools. */
export interface WorkerView extends Omit<WorkerRecord, 'stats'> {
  /** The counters it reports (`active`, `flowsRun`, `failed`; a task runner's `processed`, …). */
  readonly stats: Readonly<Record<string, unknown>>;
  /** Milliseconds since its last heartbeat, as of the read. */
  readonly heartbeatAgeMs: number;
  /** The running flows whose lease it holds. */
  readonly flows: readonly HeldFlow[];
}

/** Most running flows read to attribute them to workers. */
const MAX_RUNNING = 10_000;

/** The registered workers with the flows each holds, in id order. */
export async function readWorkers(store: RuntimeExecutionLog, now: number): Promise<WorkerView[]> {
  const [workers, held] = await Promise.all([store.listWorkers(), runningByOwner(store)]);
  return workers.map((worker) => ({
    ...worker,
    stats: parseStats(worker.stats),
    heartbeatAgeMs: Math.max(0, now - worker.lastSeenAt),
    flows: held.get(worker.id) ?? [],
  }));
}

async function runningByOwner(store: RuntimeExecutionLog): Promise<Map<string, HeldFlow[]>> {
  const byOwner = new Map<string, HeldFlow[]>();
  let cursor: string | undefined;
  let read = 0;
  do {
    const page = await store.listFlows({ status: 'running', limit: 1000, cursor });
    for (const flow of page.flows) {
      if (flow.leaseOwner === undefined) continue;
      const list = byOwner.get(flow.leaseOwner) ?? [];
      list.push({ flowId: flow.id, type: flow.type, leaseExpiresAt: flow.leaseExpiresAt });
      byOwner.set(flow.leaseOwner, list);
    }
    read += page.flows.length;
    cursor = page.nextCursor;
  } while (cursor && read < MAX_RUNNING);
  return byOwner;
}

function parseStats(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return { unreadable: text.slice(0, 200) };
  }
}
