// Reading ahead (src/internal/read-ahead.ts) against the real Redis on 6379:
// the next batch is read when a full batch's acks are written, in the same
// write, within maxUnacked; a stop gives it back as never delivered.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { createTransaction, type Transaction } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { REDIS_METADATA } from '../src/index.js';
import { adminClient, REDIS_URL, redisAvailable, streams } from './support.js';

const admin = adminClient();
const { name, connector } = streams(() => admin);

const tx = (n: number) => createTransaction({ id: `tx-${n}`, payload: { n } });
const ns = (txs: readonly Transaction<{ n: number }>[]) => txs.map((t) => t.payload.n);

/** The payloads `n` of the entries pending in the group, in order. */
async function pendingNumbers(stream: string): Promise<number[]> {
  const pending = (await admin.xpending(stream, 'ergon', '-', '+', 100)) as [string][];
  const out: number[] = [];
  for (const [id] of pending) {
    const [[, fields] = ['', []]] = (await admin.xrange(stream, id, id)) as [string, string[]][];
    out.push((JSON.parse(fields[fields.indexOf('payload') + 1] as string) as { n: number }).n);
  }
  return out;
}

/** A proxy to Redis that stops passing anything on either way once told to: a Redis that no longer answers. */
async function silencingProxy(): Promise<{ url: string; silence(): void; close(): Promise<void> }> {
  const target = new URL(REDIS_URL);
  let silent = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    client.on('data', (chunk) => silent || upstream.write(chunk));
    upstream.on('data', (chunk) => silent || client.write(chunk));
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    silence: () => {
      silent = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe.runIf(redisAvailable)('RedisStreamsConnector: reading ahead', () => {
  it('reads the next batch with the acks of a full one, within maxUnacked, and the next fetch returns it', async () => {
    const stream = name();
    const c = connector({ stream, maxUnacked: 3 });
    await c.dispatchTransactions([1, 2, 3, 4, 5, 6, 7].map(tx));
    const first = await c.fetchTransactions({ limit: 3 });
    expect(ns(first)).toEqual([1, 2, 3]);
    // Acked in one turn: one XACK, which the read of the next three goes with.
    await Promise.all(first.map((t) => c.ack(t)));
    expect(await pendingNumbers(stream), 'acked, and read ahead: never more than maxUnacked').toEqual([
      4, 5, 6,
    ]);
    const second = await c.fetchTransactions({ limit: 3 });
    expect(ns(second)).toEqual([4, 5, 6]);
    expect(second[0]?.metadata[REDIS_METADATA.deliveries]).toBe('1');
    await Promise.all(second.map((t) => c.ack(t)));
    expect(await pendingNumbers(stream)).toEqual([7]);
    expect(ns(await c.fetchTransactions({ limit: 3 }))).toEqual([7]);
  });

  it('a fetch for more than was read ahead gets the rest now, up to its limit', async () => {
    const stream = name();
    const c = connector({ stream, maxUnacked: 10 });
    await c.dispatchTransactions([1, 2, 3, 4, 5, 6, 7, 8].map(tx));
    const first = await c.fetchTransactions({ limit: 2 });
    await Promise.all(first.map((t) => c.ack(t)));
    expect(await pendingNumbers(stream)).toEqual([3, 4]);
    expect(ns(await c.fetchTransactions({ limit: 5 }))).toEqual([3, 4, 5, 6, 7]);
  });

  it('reads nothing ahead after a batch that was not full (the stream had no more)', async () => {
    const stream = name();
    const c = connector({ stream });
    await c.dispatchTransactions([1, 2].map(tx));
    const first = await c.fetchTransactions({ limit: 5 });
    expect(ns(first)).toEqual([1, 2]);
    await c.dispatchTransactions([3, 4].map(tx));
    await Promise.all(first.map((t) => c.ack(t)));
    expect(await pendingNumbers(stream)).toEqual([]);
  });

  it('a stop gives what was read ahead back as never delivered: the next consumer gets it at once', async () => {
    const stream = name();
    const a = connector({ stream, maxUnacked: 2 });
    await a.dispatchTransactions([1, 2, 3, 4].map(tx));
    const first = await a.fetchTransactions({ limit: 2 });
    await Promise.all(first.map((t) => a.ack(t)));
    expect(await pendingNumbers(stream)).toEqual([3, 4]);
    await a.stop();
    const b = connector({ stream });
    const again = await b.fetchTransactions({ limit: 10, signal: AbortSignal.timeout(5000) });
    expect(ns(again)).toEqual([3, 4]);
    expect(again.map((t) => t.metadata[REDIS_METADATA.deliveries])).toEqual(['1', '1']);
  });

  it('acks that went with a read ahead to a Redis that stopped answering fail after commandTimeout, and stop ends', async () => {
    const stream = name();
    const proxy = await silencingProxy();
    try {
      const c = connector({ url: proxy.url, stream, maxUnacked: 2, commandTimeout: '1s' });
      await admin.xadd(stream, '*', 'id', 'tx-1', 'payload', '{"n":1}');
      await admin.xadd(stream, '*', 'id', 'tx-2', 'payload', '{"n":2}');
      await admin.xadd(stream, '*', 'id', 'tx-3', 'payload', '{"n":3}');
      const first = await c.fetchTransactions({ limit: 2 });
      expect(ns(first)).toEqual([1, 2]);
      proxy.silence();
      const acks = first.map((t) =>
        c.ack(t).then(
          () => 'acked',
          (error: { code?: string }) => error.code,
        ),
      );
      // Sent with the read of the next batch on the reading connection, which has no command
      // timeout of its own: they fail after commandTimeout all the same (they waited for good).
      expect(await Promise.all(acks)).toEqual(['CONNECTOR_ERROR', 'CONNECTOR_ERROR']);
      const began = Date.now();
      await c.stop();
      expect(Date.now() - began, 'stop ends, bounded by the command timeouts').toBeLessThan(10_000);
      // Never acked: still pending, to be delivered again.
      expect(((await admin.xpending(stream, 'ergon')) as [number])[0]).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.close();
    }
  });
});
