// µs per recordOperation (one Lua script: fence check + first-write-wins +
// HSET) against a raw ioredis HSET of the same record, sequentially, in the
// same run on the same Redis; then the enqueue → wake-up latency an idle
// worker sees through pub/sub. Runs against the built package: build first.
//
//   node bench/record.mjs            # 5,000 records; ERGON_REDIS_URL or redis://127.0.0.1:6379
//   node bench/record.mjs 20000
import { randomUUID } from 'node:crypto';
import { noopLogger } from '@ergon/core';
import { Redis } from 'ioredis';
import { RedisExecutionLog } from '../dist/index.js';

const url = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';
const count = Number(process.argv[2] ?? 5000);
const warmup = 500;
const prefix = `ergon-bench:${randomUUID()}`;
const now = Date.UTC(2030, 0, 1);

const store = await RedisExecutionLog.open({ url, prefix, logger: noopLogger });
const raw = new Redis(url);
try {
  const flowId = `bench-${randomUUID()}`;
  await store.createFlow({
    id: flowId,
    type: 'bench',
    queue: 'default',
    input: '[]',
    priority: 0,
    runAt: now,
    now,
  });
  const [claimed] = await store.claim({
    workerId: 'bench',
    types: ['bench'],
    queues: ['default'],
    limit: 1,
    leaseMs: 600_000,
    now,
  });
  if (!claimed) throw new Error('could not claim the bench flow');
  const lease = { flowId, token: claimed.token };
  const record = (position) => ({
    flowId,
    position,
    key: `step-${position}#0`,
    kind: 'step',
    status: 'completed',
    attempts: 1,
    result: '["a result of modest size",{"n":42}]',
    startedAt: now,
    finishedAt: now + 1,
  });
  const rawKey = `{${prefix}}:raw-hist`;

  const timeStore = async (from, n) => {
    const start = process.hrtime.bigint();
    for (let i = from; i < from + n; i++) await store.recordOperation({ ...lease, record: record(i) });
    return Number(process.hrtime.bigint() - start) / 1000 / n;
  };
  const timeRaw = async (from, n) => {
    const start = process.hrtime.bigint();
    for (let i = from; i < from + n; i++) await raw.hset(rawKey, String(i), JSON.stringify(record(i)));
    return Number(process.hrtime.bigint() - start) / 1000 / n;
  };

  await timeStore(0, warmup);
  await timeRaw(0, warmup);
  const storeUs = await timeStore(warmup, count);
  const rawUs = await timeRaw(warmup, count);

  // Enqueue → wake-up: createFlow until the `ready` event reaches a subscriber
  // (what an idle worker waits on), p50 over 200 flows.
  const latencies = [];
  let arrived;
  const unsubscribe = store.subscribe((event) => {
    if (event.type === 'ready' && event.queue === 'latency') arrived?.();
  });
  for (let i = 0; i < 200; i++) {
    const seen = new Promise((resolve) => {
      arrived = resolve;
    });
    const start = process.hrtime.bigint();
    await store.createFlow({
      id: `lat-${randomUUID()}`,
      type: 'bench',
      queue: 'latency',
      input: '[]',
      priority: 0,
      runAt: now,
      now,
    });
    await seen;
    latencies.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  unsubscribe();
  latencies.sort((a, b) => a - b);

  const version = (await raw.info('server')).match(/redis_version:(\S+)/)?.[1];
  console.log(`Redis ${version} at ${url}, Node ${process.version}, ${count} sequential writes each`);
  console.log(`recordOperation (Lua script):  ${storeUs.toFixed(1)} µs/op`);
  console.log(`raw ioredis HSET same record:  ${rawUs.toFixed(1)} µs/op`);
  console.log(`ratio:                         ${(storeUs / rawUs).toFixed(2)}×`);
  const p = (q) => latencies[Math.floor(q * (latencies.length - 1))].toFixed(0);
  console.log(`createFlow → ready event:      p50 ${p(0.5)} µs, p99 ${p(0.99)} µs (200 flows)`);
} finally {
  await store.close();
  let cursor = '0';
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', `\\{${prefix}\\}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await raw.del(...keys);
  } while (cursor !== '0');
  raw.disconnect();
}
