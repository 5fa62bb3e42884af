/**
 * The `connector-redis-streams` bench row's two sides, many rounds, in one
 * process: a no-op consumer task over the connector, and the raw ioredis
 * loop (XREADGROUP COUNT 100, JSON.parse, one XACK a batch). Prints wall
 * rate and this process's CPU µs per message of each round. Run it under
 * `node --cpu-prof` to see where the consumer task's time goes.
 *
 *   node bench/profile.mjs [--rounds 10] [--messages 50000] [--only ergon|raw]
 */
import { parseArgs } from 'node:util';
import { ConsumerPolicy, consumer, runTask } from '@ergon/tasks';
import { Redis } from 'ioredis';
import { createRedisStreamsConnector } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    messages: { type: 'string', default: '50000' },
    only: { type: 'string' },
    url: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const ROUNDS = Number(values.rounds);
const COUNT = Number(values.messages);
const BATCH = 100;
const URL = values.url;

const FILL = `for n = tonumber(ARGV[1]), tonumber(ARGV[2]) - 1 do
  redis.call('XADD', KEYS[1], '*', 'id', 'm-' .. n, 'payload', '{"n":' .. n .. ',"sku":"A-1","quantity":2}')
end`;

const admin = new Redis(URL);
let serial = 0;
async function fill(count) {
  const stream = `ergon-prof-${process.pid}-${serial++}`;
  for (let from = 0; from < count; from += 1000)
    await admin.eval(FILL, 1, stream, from, Math.min(count, from + 1000));
  return stream;
}

async function raw(stream, count) {
  const t0 = performance.now();
  const redis = new Redis(URL);
  await redis.xgroup('CREATE', stream, 'raw', '0', 'MKSTREAM');
  let acked = 0;
  while (acked < count) {
    const reply = await redis.xreadgroup(
      'GROUP',
      'raw',
      'raw-1',
      'COUNT',
      BATCH,
      'BLOCK',
      100,
      'STREAMS',
      stream,
      '>',
    );
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) continue;
    for (const [, fields] of entries) JSON.parse(fields[3]);
    await redis.xack(stream, 'raw', ...entries.map(([id]) => id));
    acked += entries.length;
  }
  const ms = performance.now() - t0;
  redis.disconnect();
  return ms;
}

async function ergon(stream, count) {
  const t0 = performance.now();
  let doneAt = 0;
  let acked = 0;
  const task = consumer({
    name: 'prof-redis-streams',
    connectors: {
      input: createRedisStreamsConnector({ url: URL, stream, maxUnacked: BATCH, block: '100ms' }),
    },
    policies: { consumer: new ConsumerPolicy({ concurrency: BATCH, batchSize: BATCH, limit: count }) },
    processTransaction: async () => undefined,
  });
  await runTask(task, {
    handleSignals: false,
    onOutcome: (o) => {
      if (o.settlement === 'ack' && ++acked === count) doneAt = performance.now();
    },
  });
  if (acked !== count) throw new Error(`only ${acked} acked`);
  return doneAt - t0;
}

const sides = values.only ? [values.only] : ['raw', 'ergon'];
const run = { raw, ergon };
const streams = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const line = [];
    for (const side of sides) {
      const stream = await fill(COUNT);
      streams.push(stream);
      const before = process.resourceUsage();
      const ms = await run[side](stream, COUNT);
      const after = process.resourceUsage();
      const user = (after.userCPUTime - before.userCPUTime) / COUNT;
      const system = (after.systemCPUTime - before.systemCPUTime) / COUNT;
      const switches = (n) => ((after[n] - before[n]) / (COUNT / BATCH)).toFixed(1);
      line.push(
        `${side} ${((COUNT / ms) * 1000).toFixed(0)}/s ${(user + system).toFixed(2)} µs ` +
          `(user ${user.toFixed(2)} sys ${system.toFixed(2)}; switches/batch ${switches('voluntaryContextSwitches')} ` +
          `vol ${switches('involuntaryContextSwitches')} invol)`,
      );
      await admin.del(stream, `${stream}:dead-letter`);
    }
    console.log(`round ${round}: ${line.join('  ')}`);
  }
} finally {
  if (streams.length > 0) await admin.del(...streams);
  admin.disconnect();
}
