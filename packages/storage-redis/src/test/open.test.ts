// Opening a store while its first connection is dropped (a Redis restart, a CLIENT KILL
// during a worker's start): open waits for ioredis's next connection instead of failing.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisExecutionLog } from '../index.js';
import { deletePrefix, REDIS_URL, randomPrefix, redisAvailable } from './support.js';

const target = new URL(REDIS_URL);

/** A TCP proxy to the shared Redis that closes the first `drop` connections at once. */
async function droppingProxy(
  drop: number,
): Promise<{ url: string; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    accepted++;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (accepted <= drop) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port || 6379), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// Skipped only off CI without the shared Redis (requireService warns); under CI=true it throws instead.
describe.skipIf(!redisAvailable)('RedisExecutionLog.open', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('opens when its first connections are dropped while connecting', async () => {
    // The command connection's first attempt, and (whichever comes next) the subscriber's or its retry.
    const proxy = await droppingProxy(2);
    cleanups.push(proxy.close);
    const prefix = randomPrefix('open');
    cleanups.push(() => deletePrefix(REDIS_URL, prefix));
    const store = await RedisExecutionLog.open({ url: proxy.url, prefix, commandTimeoutMs: 5000 });
    cleanups.unshift(() => store.close());
    expect(proxy.accepted()).toBeGreaterThan(2);
    const { created } = await store.createFlow({
      id: 'after-drop',
      type: 't',
      queue: 'q',
      input: '[1]',
      priority: 0,
      runAt: 0,
      now: 0,
    });
    expect(created).toBe(true);
  });
});
