// Connections that drop, a Redis that dies and comes back, and a consumer
// process that is SIGKILLed while it holds entries. The server-side faults
// run on a private redis-server (never the shared one on 6379).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createTransaction, type Transaction } from '@ergon/core';
import { eventually, PrivateRedisServer, requireRedisServer } from '@ergon/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_METADATA } from '../src/index.js';
import { adminClient, REDIS_URL, redisAvailable, streams } from './support.js';

const tx = (n: number) => createTransaction({ id: `tx-${n}`, payload: { n } });
const ns = (txs: readonly Transaction<{ n: number }>[]) => txs.map((t) => t.payload.n).sort((a, b) => a - b);

describe.runIf(requireRedisServer())('on a private redis-server', () => {
  let server: PrivateRedisServer;
  let admin: Redis;
  beforeAll(async () => {
    // Every write on disk before it is answered: a restart keeps what was acked and what was pending.
    server = await PrivateRedisServer.start(['--appendonly', 'yes', '--appendfsync', 'always']);
    admin = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    admin.on('error', () => undefined);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });
  const { name, connector } = streams(() => admin);

  it('a fetch blocked when every connection is killed reconnects and reads on; held entries are acked after', async () => {
    const stream = name();
    const c = connector({ url: server.url, stream, block: '3s' });
    await c.dispatchTransactions([tx(1), tx(2)]);
    const held = await c.fetchTransactions({ limit: 10 });
    const waiting = c.fetchTransactions({ limit: 10, signal: AbortSignal.timeout(10_000) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await eventually(async () => (await c.service.health()).healthy, 5000);
    await admin.xadd(stream, '*', 'id', 'tx-3', 'payload', '{"n":3}');
    const more = await waiting;
    expect(ns(more)).toEqual([3]);
    for (const t of [...held, ...more]) await c.ack(t);
    expect((await admin.xpending(stream, 'ergon'))[0]).toBe(0);
    expect(await c.fetchTransactions({ limit: 10, signal: AbortSignal.timeout(300) })).toEqual([]);
  });

  it('while Redis is down health says so; after its restart nothing acked comes back and nothing unacked is lost', async () => {
    const stream = name();
    const c = connector({ url: server.url, stream, block: '200ms', commandTimeout: '8s' });
    await c.dispatchTransactions([1, 2, 3, 4, 5].map(tx));
    const held = await c.fetchTransactions({ limit: 2 });
    expect(ns(held)).toEqual([1, 2]);
    await c.ack(held[0] as Transaction<{ n: number }>);
    await server.kill();
    await eventually(async () => !(await c.service.health()).healthy, 5000);
    expect((await c.service.health()).detail).toMatch(/connection/);
    await server.spawn();
    await eventually(async () => (await c.service.health()).healthy, 10_000);
    await c.ack(held[1] as Transaction<{ n: number }>);
    const rest = await c.fetchTransactions({ limit: 10 });
    expect(ns(rest)).toEqual([3, 4, 5]);
    for (const t of rest) await c.ack(t);
    expect((await admin.xpending(stream, 'ergon'))[0]).toBe(0);
  });
});

describe.runIf(redisAvailable)('a consumer process that dies', () => {
  const admin = adminClient();
  const { name, connector } = streams(() => admin);
  const HOLDER = fileURLToPath(new URL('./fixtures/holder.mjs', import.meta.url));

  it('has its entries redelivered to another consumer after claimIdle, with the same ids', async () => {
    const stream = name();
    const options = { url: REDIS_URL, stream, claimIdle: '800ms', block: '200ms' };
    const survivor = connector(options);
    await survivor.dispatchTransactions([1, 2, 3, 4].map(tx));
    const child = fork(HOLDER, [JSON.stringify({ ...options, count: 3 })], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const [message] = (await once(child, 'message')) as [{ held: string[] }];
    expect(message.held).toEqual(['tx-1', 'tx-2', 'tx-3']);
    // While it lives it renews its entries: the survivor gets only the fourth.
    const early: Transaction<{ n: number }>[] = [];
    const until = Date.now() + 1500;
    while (Date.now() < until) early.push(...(await survivor.fetchTransactions({ limit: 10 })));
    expect(ns(early)).toEqual([4]);
    child.kill('SIGKILL');
    await once(child, 'exit');
    const taken: Transaction<{ n: number }>[] = [];
    const deadline = Date.now() + 5000;
    while (taken.length < 3 && Date.now() < deadline)
      taken.push(...(await survivor.fetchTransactions({ limit: 10 })));
    expect(taken.map((t) => t.id).sort()).toEqual(['tx-1', 'tx-2', 'tx-3']);
    expect(taken.every((t) => t.metadata[REDIS_METADATA.deliveries] === '2')).toBe(true);
  });
});
