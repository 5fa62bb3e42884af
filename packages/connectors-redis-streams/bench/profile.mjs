/**
 * The `connector-redis-streams` bench row's two sides, many rounds, in one
 * process: a no-op consumer task over the connector, and the raw ioredis
 * loop (XREADGROUP COUNT 100, JSON.parse, one XACK a batch). Prints wall
 * rate, this process's and Redis' CPU µs per message of each round. Run it
 * under `node --cpu-prof` to see where the consumer task's time goes.
 *
 *   node bench/profile.mjs [--rounds 10] [--messages 50000] [--only ergon|raw|connector|raw,connector,…]
 *
 * CPU time on a shared machine moves with its load; instructions do not.
 * Under callgrind, `--callgrind <n>` counts the instructions of this
 * process's main thread in the rounds from round n on (one side), with and
 * without its garbage collections, per message:
 *
 *   valgrind --tool=callgrind --separate-threads=yes node bench/profile.mjs \
 *     --only ergon --messages 5000 --rounds 8 --callgrind 6
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConsumerPolicy, consumer, runTask } from '@ergon/tasks';
import { Redis } from 'ioredis';
import { createRedisStreamsConnector } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    messages: { type: 'string', default: '50000' },
    only: { type: 'string' },
    callgrind: { type: 'string' },
    url: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const ROUNDS = Number(values.rounds);
const COUNT = Number(values.messages);
const BATCH = Number(process.env.BATCH ?? 100);
const URL = values.url;
const CALLGRIND = values.callgrind === undefined ? undefined : Number(values.callgrind);

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

/** Redis' own CPU so far, µs (user + sys of its main thread; INFO's own cost is in it, once per round). */
async function redisCpu() {
  const info = await admin.info('cpu');
  const read = (name) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return (read('used_cpu_user') + read('used_cpu_sys')) * 1e6;
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

/**
 * The connector without the runner: fetch a batch, ack each transaction, fetch again (what the
 * consumer task does for a no-op handler, minus the task): the runner's share is ergon's less this.
 */
async function connector(stream, count) {
  const t0 = performance.now();
  const input = createRedisStreamsConnector({ url: URL, stream, maxUnacked: BATCH, block: '100ms' });
  await input.start();
  let acked = 0;
  let acks = [];
  while (acked < count) {
    const batch = await input.fetchTransactions({ limit: Math.min(BATCH, count - acked) });
    await Promise.all(acks);
    acks = batch.map((tx) => input.ack(tx));
    acked += batch.length;
  }
  await Promise.all(acks);
  const ms = performance.now() - t0;
  await input.stop();
  return ms;
}

const sides = values.only ? values.only.split(',') : ['raw', 'ergon'];
const run = { raw, ergon, connector };
const streams = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const line = [];
    for (const side of sides) {
      const stream = await fill(COUNT);
      streams.push(stream);
      const redisBefore = await redisCpu();
      if (round === CALLGRIND) callgrindControl('--zero');
      const before = process.resourceUsage();
      const ms = await run[side](stream, COUNT);
      const after = process.resourceUsage();
      if (CALLGRIND !== undefined && round === ROUNDS - 1) callgrindControl('--dump');
      const redisUs = ((await redisCpu()) - redisBefore) / COUNT;
      const user = (after.userCPUTime - before.userCPUTime) / COUNT;
      const system = (after.systemCPUTime - before.systemCPUTime) / COUNT;
      const switches = (n) => ((after[n] - before[n]) / (COUNT / BATCH)).toFixed(1);
      line.push(
        `${side} ${((COUNT / ms) * 1000).toFixed(0)}/s ${(user + system).toFixed(2)} µs ` +
          `(redis ${redisUs.toFixed(2)}) ` +
          `(user ${user.toFixed(2)} sys ${system.toFixed(2)}; switches/batch ${switches('voluntaryContextSwitches')} ` +
          `vol ${switches('involuntaryContextSwitches')} invol)`,
      );
      await admin.del(stream, `${stream}:dead-letter`);
    }
    console.log(`round ${round}: ${line.join('  ')}`);
  }
  if (CALLGRIND !== undefined) console.log(instructions((ROUNDS - CALLGRIND) * COUNT));
} finally {
  if (streams.length > 0) await admin.del(...streams);
  admin.disconnect();
}

function callgrindControl(command) {
  execFileSync('callgrind_control', [command, String(process.pid)], { stdio: 'ignore' });
}

/** The main thread's instructions of the dump per message, all and without garbage collection. */
function instructions(messages) {
  const file = readdirSync('.').find((name) => name === `callgrind.out.${process.pid}.1-01`);
  if (!file) return 'no callgrind dump (run under valgrind --tool=callgrind --separate-threads=yes)';
  const total = Number(/^summary: (\d+)/m.exec(readFileSync(file, 'utf8'))?.[1]);
  const annotated = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const gc = Number(/^\s*([\d,]+) .*Heap::CollectGarbage\(/m.exec(annotated)?.[1].replaceAll(',', '') ?? 0);
  const per = (n) => Math.round(n / messages);
  return `callgrind (${file}): ${per(total)} instructions per message, ${per(total - gc)} without GC (${per(gc)})`;
}
