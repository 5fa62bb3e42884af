/**
 * Flow control (DESIGN §9): what per-key limits and fair order cost, and what
 * fair order buys.
 *
 * - `claim-keys-10k-sqlite`, `claim-keys-10k-redis`: claims per second through
 *   the store's claim primitive, with a simulated worker that claims 32 at a
 *   time and finishes each claimed flow, over 10,000 flows with 10,000
 *   distinct concurrency keys (limit 1 per key, fair order) against the same
 *   flows with no key in a queue without limits. The ratio is keyed ÷ plain;
 *   the target is at least 0.7.
 * - `fair-first-start-sqlite`: how long a small tenant's first flow waits to
 *   start when a large tenant has 10,000 flows queued ahead of it, with a real
 *   worker (concurrency 8, each run holding its slot 2 ms): with concurrency keys
 *   (fair order) against the same flows without keys (first come, first served).
 *
 * @module
 */
import { defaultCodec, type ExecutionLog, runtimeStore } from '@ergon/core';
import { Client, flow, Worker } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import type { Bench, BenchContext } from '../lib/bench.js';
import { REDIS_URL } from '../lib/config.js';
import { makeRow } from '../lib/results.js';
import { deleteKeys, ergonKeys, tempDir, uniqueName } from '../lib/services.js';

const KEYS = 10_000;
const BATCH = 32;

function flowsFor(context: BenchContext): number {
  return context.mode === 'smoke' ? 500 : context.mode === 'quick' ? 5000 : KEYS;
}

async function fill(store: ExecutionLog, queue: string, count: number, keyed: boolean): Promise<void> {
  const input = defaultCodec.encode({ n: 1 });
  const now = Date.now();
  for (let i = 0; i < count; i += 200) {
    const writes: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(count, i + 200); j++) {
      writes.push(
        runtimeStore(store).createFlow({
          id: `${queue}-${j}`,
          type: 'bench-claim',
          queue,
          input,
          priority: 0,
          runAt: now,
          now,
          concurrencyKey: keyed ? `tenant-${j % KEYS}` : undefined,
        }),
      );
    }
    await Promise.all(writes);
  }
}

/** Claims every flow of the queue, BATCH at a time, finishing each; flows per second. */
async function drain(store: ExecutionLog, queue: string, count: number): Promise<number> {
  const s = runtimeStore(store);
  const t0 = performance.now();
  let done = 0;
  while (done < count) {
    const claimed = await s.claim({
      workerId: 'bench',
      types: ['bench-claim'],
      queues: [queue],
      limit: BATCH,
      leaseMs: 60_000,
      now: Date.now(),
    });
    if (claimed.length === 0) throw new Error(`claims stopped at ${done} of ${count} in ${queue}`);
    await Promise.all(
      claimed.map(({ flow: f, token }) =>
        s.finishFlow({ flowId: f.id, token, status: 'completed', now: Date.now() }),
      ),
    );
    done += claimed.length;
  }
  return count / ((performance.now() - t0) / 1000);
}

async function claimRow(
  context: BenchContext,
  name: 'claim-keys-10k-sqlite' | 'claim-keys-10k-redis',
  store: ExecutionLog,
) {
  const count = flowsFor(context);
  const warm = Math.min(count, 1000);
  for (const queue of ['keyed', 'keyed-warm']) {
    await runtimeStore(store).configureQueue({ queue, limits: { keyConcurrency: 1 }, now: Date.now() });
  }
  await fill(store, 'plain-warm', warm, false);
  await fill(store, 'keyed-warm', warm, true);
  await fill(store, 'plain', count, false);
  await fill(store, 'keyed', count, true);
  // Both paths run once untimed first, so neither is timed on colder code than the other.
  await drain(store, 'plain-warm', warm);
  await drain(store, 'keyed-warm', warm);
  const plain = await drain(store, 'plain', count);
  const keyed = await drain(store, 'keyed', count);
  context.log(
    `  ${name}: ${Math.round(keyed)} claims/s with ${Math.min(count, KEYS)} keys, ${Math.round(plain)} without; ratio ${(keyed / plain).toFixed(2)}`,
  );
  return makeRow(name, {
    unit: 'flows/s',
    better: 'higher',
    ergon: keyed,
    peer: 'the same claims with no concurrency keys',
    peerValue: plain,
    extra: { size: count, keys: Math.min(count, KEYS), batch: BATCH },
  });
}

export const claimKeysSqlite: Bench = {
  id: 'claim-keys-10k-sqlite',
  rows: [{ name: 'claim-keys-10k-sqlite', unit: 'flows/s', better: 'higher' }],
  run: async (context) => {
    const tmp = tempDir();
    const store = await SqliteExecutionLog.open({ path: `${tmp.dir}/claims.db` });
    try {
      return [await claimRow(context, 'claim-keys-10k-sqlite', store)];
    } finally {
      await runtimeStore(store).close();
      tmp.remove();
    }
  },
};

export const claimKeysRedis: Bench = {
  id: 'claim-keys-10k-redis',
  rows: [{ name: 'claim-keys-10k-redis', unit: 'flows/s', better: 'higher' }],
  run: async (context) => {
    const prefix = uniqueName('claim-keys');
    const store = await RedisExecutionLog.open({ url: REDIS_URL, prefix });
    try {
      return [await claimRow(context, 'claim-keys-10k-redis', store)];
    } finally {
      await runtimeStore(store).close();
      await deleteKeys(ergonKeys(prefix));
    }
  },
};

/** Ms from scheduling tenant B's first flow to its start, with `backlog` of tenant A's ahead. */
async function firstStart(dir: string, backlog: number, keyed: boolean): Promise<number> {
  const store = await SqliteExecutionLog.open({ path: `${dir}/fair-${keyed ? 'keyed' : 'fifo'}.db` });
  const started = new Map<string, number>();
  // Each run holds its worker slot 2 ms (an I/O wait), so the backlog lasts and the event loop
  // stays free for the measurement.
  const job = flow('bench-tenant-job', async (ctx, input: { tenant: string }) => {
    await ctx.run('work', async (s) => {
      started.set(s.flowId, performance.now());
      await new Promise((resolve) => setTimeout(resolve, 2));
    });
    return input.tenant;
  });
  const worker = new Worker({ store, flows: [job], concurrency: 8 });
  try {
    const client = new Client({ store });
    const now = Date.now();
    const input = defaultCodec.encode({ tenant: 'A' });
    for (let i = 0; i < backlog; i += 200) {
      const writes: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(backlog, i + 200); j++) {
        writes.push(
          client.store.createFlow({
            id: `a-${j}`,
            type: 'bench-tenant-job',
            queue: 'default',
            input,
            priority: 0,
            runAt: now,
            now,
            concurrencyKey: keyed ? 'A' : undefined,
          }),
        );
      }
      await Promise.all(writes);
    }
    worker.start();
    while (started.size < 50) await new Promise((resolve) => setTimeout(resolve, 2));
    const t0 = performance.now();
    const b = await client.schedule(job, { tenant: 'B' }, keyed ? { concurrencyKey: 'B' } : {});
    while (!started.has(b.id)) await new Promise((resolve) => setTimeout(resolve, 1));
    return (started.get(b.id) ?? t0) - t0;
  } finally {
    await worker.stop({ timeout: '5s' });
    await runtimeStore(store).close();
  }
}

export const fairFirstStart: Bench = {
  id: 'fair-first-start-sqlite',
  rows: [{ name: 'fair-first-start-sqlite', unit: 'ms', better: 'lower' }],
  run: async (context) => {
    const backlog = context.mode === 'smoke' ? 500 : 10_000;
    const tmp = tempDir();
    try {
      const fair = await firstStart(tmp.dir, backlog, true);
      const fifo = await firstStart(tmp.dir, backlog, false);
      context.log(
        `  fair-first-start-sqlite: tenant B's first flow started ${fair.toFixed(1)} ms after scheduling behind ${backlog} of A's with keys, ${fifo.toFixed(1)} ms without`,
      );
      return [
        makeRow('fair-first-start-sqlite', {
          unit: 'ms',
          better: 'lower',
          ergon: fair,
          peer: 'the same flows without concurrency keys (first come, first served)',
          peerValue: fifo,
          extra: { size: backlog, workerConcurrency: 8 },
        }),
      ];
    } finally {
      tmp.remove();
    }
  },
};
