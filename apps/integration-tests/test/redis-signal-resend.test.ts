// Found by the soak (scripts/soak.mjs): on Redis, a signal sent once can be
// buffered twice. ioredis resends a command that was in flight when its
// connection dropped; the store's scripts recognise a resent copy by its
// request id, but only while it is the flow's last change (includes/replay.lua
// keeps one). When the flow changed in between (a worker consumed the signal
// and suspended again), the resent send-signal ran again and buffered the
// payload a second time: the flow received a signal the client sent once.
// Fixed: send-signal keeps its request ids for an hour in the flow's "sigr:" set.
// A proxy between the client's store and redis-server swallows the reply of
// the send and holds reconnections until the worker has moved on.
import { createServer, type Server, Socket } from 'node:net';
import { runtimeStore } from '@ergon/core';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { PrivateRedisServer, requireRedisServer } from '@ergon/testing';
import { afterAll, describe, expect, it } from 'vitest';

const redisServerAvailable = requireRedisServer();

/** A TCP proxy that can swallow the reply to the first command carrying `marker` and cut that connection. */
async function startProxy(port: number) {
  let marker: string | undefined;
  let holding = false;
  let dropped = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (holding) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    let swallow = false;
    upstream.connect(port, '127.0.0.1');
    client.on('data', (chunk: Buffer) => {
      if (marker && chunk.includes(marker)) {
        marker = undefined;
        swallow = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!swallow) {
        client.write(chunk);
        return;
      }
      // The command ran; its reply never arrives, and the client must reconnect.
      holding = true;
      dropped = true;
      client.destroy();
      upstream.destroy();
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => {});
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${address.port}`,
    arm: (text: string) => {
      marker = text;
    },
    get dropped() {
      return dropped;
    },
    release: () => {
      holding = false;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

// Skipped only off CI when redis-server is not installed (requireRedisServer warns); under CI=true it throws instead.
describe.skipIf(!redisServerAvailable)('a signal whose reply was lost', () => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('is buffered once, even when the flow moved on before the client resent it', async () => {
    const server = await PrivateRedisServer.start();
    cleanups.push(() => server.stop());
    const proxy = await startProxy(server.port);
    cleanups.push(() => proxy.close());
    const prefix = 'resend';
    const client = runtimeStore(await RedisExecutionLog.open({ url: proxy.url, prefix }));
    const worker = runtimeStore(await RedisExecutionLog.open({ url: server.url, prefix }));
    cleanups.push(
      () => client.close(),
      () => worker.close(),
    );
    const now = Date.now();
    const base = { type: 't', queue: 'q', input: '1', priority: 0, runAt: now, now };
    await worker.createFlow({ id: 'f', ...base });
    const claim = () =>
      worker.claim({
        workerId: 'w',
        types: ['t'],
        queues: ['q'],
        limit: 1,
        leaseMs: 60_000,
        now: Date.now(),
      });
    const waitGo = [{ kind: 'signal' as const, name: 'go', position: 0 }];
    const [first] = await claim();
    await worker.suspend({ flowId: 'f', token: first?.token ?? 0, waits: waitGo, now: Date.now() });

    proxy.arm('payload-sent-once');
    const sending = client.sendSignal({
      flowId: 'f',
      name: 'go',
      payload: 'payload-sent-once',
      now: Date.now(),
    });
    while (!proxy.dropped) await new Promise((resolve) => setTimeout(resolve, 5));
    // While the client reconnects, the worker takes the signal and suspends again.
    const [second] = await claim();
    const token = second?.token ?? 0;
    const record = {
      flowId: 'f',
      position: 0,
      key: 'go#0',
      kind: 'signal' as const,
      attempts: 1,
      startedAt: now,
    };
    const consumed = await worker.consumeSignal({ flowId: 'f', token, name: 'go', record });
    expect(consumed?.record.result).toBe('payload-sent-once');
    await worker.suspend({
      flowId: 'f',
      token,
      waits: [{ kind: 'signal', name: 'go', position: 1 }],
      now: Date.now(),
    });
    proxy.release();
    await sending;

    // Sent once, consumed once: nothing may be left buffered.
    expect((await worker.getSignals('f')).map((s) => s.payload)).toEqual([]);
  }, 30_000);
});
