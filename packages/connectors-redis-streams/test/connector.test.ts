// The connector against the real Redis on 6379 (ERGON_REDIS_URL), one
// fresh stream per test, deleted afterwards.
import { setTimeout as sleep } from 'node:timers/promises';
import { createTransaction, defaultCodec, ErrorCode, hasErrorCode, type Transaction } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { createJsonCodec, DEAD_LETTER_FIELDS, REDIS_METADATA, streamPrefix } from '../src/index.js';
import { adminClient, redisAvailable, streams } from './support.js';

const admin = adminClient();
const { name, connector } = streams(() => admin);

const tx = (n: number, metadata: Record<string, string> = {}) =>
  createTransaction({ id: `tx-${n}`, payload: { n }, metadata });
const ns = (txs: readonly Transaction<{ n: number }>[]) => txs.map((t) => t.payload.n);

describe.runIf(redisAvailable)('RedisStreamsConnector: reading and settling', () => {
  it('delivers dispatched transactions with their ids, payloads and metadata, in order', async () => {
    const stream = name();
    const c = connector({ stream });
    await c.dispatchTransactions([
      tx(1, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
      tx(2),
    ]);
    const got = await c.fetchTransactions({ limit: 10 });
    expect(got.map((t) => t.id)).toEqual(['tx-1', 'tx-2']);
    expect(ns(got)).toEqual([1, 2]);
    expect(got[0]?.metadata.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(got[0]?.metadata[REDIS_METADATA.stream]).toBe(stream);
    expect(got[0]?.metadata[REDIS_METADATA.entry]).toMatch(/^\d+-\d+$/);
    expect(got[0]?.metadata[REDIS_METADATA.deliveries]).toBe('1');
    expect(Object.isFrozen(got[0]?.payload)).toBe(true);
  });

  it('names an entry without an id field <stream>:<entry id>, the same on every delivery', async () => {
    const stream = name();
    const entry = await admin.xadd(stream, '*', 'payload', '{"n":7}');
    const c = connector({ stream });
    const [first] = await c.fetchTransactions({ limit: 1 });
    expect(first?.id).toBe(`${streamPrefix(stream)}:${entry}`);
    await c.nack(first as Transaction<{ n: number }>, { requeue: true });
    const [again] = await c.fetchTransactions({ limit: 1 });
    expect(again?.id).toBe(first?.id);
    expect(again?.metadata[REDIS_METADATA.deliveries]).toBe('2');
  });

  it('honours the fetch limit and hands each entry to one consumer of the group', async () => {
    const stream = name();
    const a = connector({ stream });
    const b = connector({ stream });
    await a.dispatchTransactions([1, 2, 3, 4, 5].map((n) => tx(n)));
    const first = await a.fetchTransactions({ limit: 2 });
    const second = await b.fetchTransactions({ limit: 10 });
    expect(ns(first)).toEqual([1, 2]);
    expect(ns(second)).toEqual([3, 4, 5]);
    expect(await a.fetchTransactions({ limit: 10 })).toEqual([]);
  });

  it('an acked entry leaves the pending list and is never delivered again', async () => {
    const stream = name();
    const c = connector({ stream, claimIdle: '100ms' });
    await c.dispatchTransactions([tx(1), tx(2)]);
    const got = await c.fetchTransactions({ limit: 10 });
    for (const t of got) await c.ack(t);
    expect(await admin.xpending(stream, 'ergon')).toEqual([0, null, null, null]);
    await sleep(200);
    expect(await c.fetchTransactions({ limit: 10 })).toEqual([]);
    const other = connector({ stream, claimIdle: '100ms' });
    expect(await other.fetchTransactions({ limit: 10 })).toEqual([]);
  });

  it('holds at most maxUnacked, and a settlement makes room for one more', async () => {
    const stream = name();
    const c = connector({ stream, maxUnacked: 3 });
    await c.dispatchTransactions([1, 2, 3, 4, 5].map((n) => tx(n)));
    const held = await c.fetchTransactions({ limit: 10 });
    expect(ns(held)).toEqual([1, 2, 3]);
    const began = Date.now();
    expect(await c.fetchTransactions({ limit: 10, signal: AbortSignal.timeout(200) })).toEqual([]);
    // Ended by its signal, not by the 2 s block (generous: a loaded machine is slow, never that slow).
    expect(Date.now() - began).toBeLessThan(1800);
    // A fetch waiting for room gets it as soon as one is settled.
    const waiting = c.fetchTransactions({ limit: 10, signal: AbortSignal.timeout(5000) });
    await sleep(50);
    await c.ack(held[0] as Transaction<{ n: number }>);
    expect(ns(await waiting)).toEqual([4]);
  });

  it('a nack with requeue delivers the entry again at once, to this consumer or another', async () => {
    const stream = name();
    const a = connector({ stream });
    const b = connector({ stream });
    await a.dispatchTransactions([tx(1, { 'x-tenant': 'acme' })]);
    const [first] = await a.fetchTransactions({ limit: 1 });
    await a.nack(first as Transaction<{ n: number }>, { requeue: true });
    const [again] = await b.fetchTransactions({ limit: 1 });
    expect(again?.id).toBe('tx-1');
    expect(again?.metadata['x-tenant']).toBe('acme');
    expect(again?.metadata[REDIS_METADATA.deliveries]).toBe('2');
  });

  it('a nack without requeue moves the entry, with its fields and the reason, to the dead-letter stream', async () => {
    const stream = name();
    const c = connector({ stream });
    await c.dispatchTransactions([tx(1, { 'x-tenant': 'acme' })]);
    const [t] = await c.fetchTransactions({ limit: 1 });
    const reason = Object.assign(new Error('card declined'), { code: ErrorCode.NON_RETRYABLE });
    await c.nack(t as Transaction<{ n: number }>, { requeue: false, reason });
    const [dead] = await c.readDeadLetters();
    expect(dead).toMatchObject({
      transactionId: 'tx-1',
      payload: { n: 1 },
      metadata: { 'x-tenant': 'acme' },
      reason: { name: 'Error', code: ErrorCode.NON_RETRYABLE, message: 'card declined' },
      source: { stream, entry: t?.metadata[REDIS_METADATA.entry], group: 'ergon', deliveries: '1' },
    });
    expect(dead?.at).toBeInstanceOf(Date);
    expect(await admin.xpending(stream, 'ergon')).toEqual([0, null, null, null]);
    // A second nack of the settled entry adds nothing.
    await c.nack(t as Transaction<{ n: number }>, { requeue: false, reason });
    expect(await c.readDeadLetters()).toHaveLength(1);
  });

  it('dead-letters entries that cannot become transactions, with a reason code, and goes on', async () => {
    const stream = name();
    const c = connector({ stream, codec: createJsonCodec({ maxBytes: 64 }) });
    await admin.xadd(stream, '*', 'payload', '{not json', 'x-source', 'legacy');
    await admin.xadd(stream, '*', 'payload', Buffer.from([0x22, 0xff, 0xfe, 0x22]));
    await admin.xadd(stream, '*', 'body', '{}');
    await admin.xadd(stream, '*', 'payload', JSON.stringify({ n: 0, pad: 'x'.repeat(100) }));
    await admin.xadd(stream, '*', 'id', 'bad id!', 'payload', '{"n":0}');
    await admin.xadd(stream, '*', 'payload', '{"__proto__":{"x":1}}');
    await c.dispatchTransactions([tx(1)]);
    expect(ns(await c.fetchTransactions({ limit: 10 }))).toEqual([1]);
    const dead = await c.readDeadLetters();
    expect(dead.map((d) => d.reason.code)).toEqual([
      ErrorCode.CODEC_MALFORMED,
      ErrorCode.CODEC_MALFORMED,
      ErrorCode.CODEC_MALFORMED,
      ErrorCode.CODEC_TOO_LARGE,
      ErrorCode.INVALID_ID,
      ErrorCode.CODEC_UNSAFE_KEY,
    ]);
    expect(dead[0]?.payloadText).toBe('{not json');
    expect(dead[0]?.metadata['x-source']).toBe('legacy');
    expect(dead[1]?.reason.message).toMatch(/UTF-8/);
    // The original bytes are copied as they were.
    const [raw] = await admin.xrangeBuffer(
      `${stream}:dead-letter`,
      dead[1]?.deadLetterId ?? '',
      '+',
      'COUNT',
      1,
    );
    expect(raw?.[1][1]).toEqual(Buffer.from([0x22, 0xff, 0xfe, 0x22]));
    expect((await admin.xpending(stream, 'ergon'))[0]).toBe(1);
  });

  it('reads text that holds a real U+FFFD (valid UTF-8) as it is', async () => {
    const stream = name();
    const c = connector({ stream });
    // EF BF BD is U+FFFD written correctly: text with it is checked byte by byte, and passes.
    await admin.xadd(stream, '*', 'payload', '{"n":7,"s":"a\uFFFDb"}', 'x-note', 'x\uFFFDy');
    const [t] = (await c.fetchTransactions({ limit: 10 })) as Transaction<{ n: number; s: string }>[];
    expect(t?.payload).toEqual({ n: 7, s: 'a\uFFFDb' });
    expect(t?.metadata['x-note']).toBe('x\uFFFDy');
    expect(await c.readDeadLetters()).toEqual([]);
  });

  it('with requireId, an entry without an id field is dead-lettered (INVALID_ID)', async () => {
    const stream = name();
    const c = connector({ stream, requireId: true });
    await admin.xadd(stream, '*', 'payload', '{"n":1}');
    await c.dispatchTransactions([tx(2)]);
    expect(ns(await c.fetchTransactions({ limit: 10 }))).toEqual([2]);
    expect((await c.readDeadLetters()).map((d) => d.reason.code)).toEqual([ErrorCode.INVALID_ID]);
  });

  it('an entry delivered more than maxDeliveries times goes to the dead-letter stream', async () => {
    const stream = name();
    const c = connector({ stream, maxDeliveries: 2 });
    await c.dispatchTransactions([tx(1)]);
    for (let i = 1; i <= 2; i++) {
      const [t] = await c.fetchTransactions({ limit: 1 });
      expect(t?.metadata[REDIS_METADATA.deliveries]).toBe(String(i));
      await c.nack(t as Transaction<{ n: number }>, { requeue: true });
    }
    expect(await c.fetchTransactions({ limit: 1 })).toEqual([]);
    const [dead] = await c.readDeadLetters();
    expect(dead).toMatchObject({
      transactionId: 'tx-1',
      reason: { code: ErrorCode.CONNECTOR_ERROR },
      source: { deliveries: '3' },
    });
    expect(dead?.reason.message).toMatch(/maxDeliveries/);
  });

  it('entries of a consumer that stopped renewing are taken over after claimIdle, and only then', async () => {
    const stream = name();
    // A consumer that died: it read entries and then nothing, from outside the connector.
    await admin.xgroup('CREATE', stream, 'ergon', '0', 'MKSTREAM');
    const c = connector({ stream, claimIdle: '600ms' });
    await c.dispatchTransactions([tx(1), tx(2)]);
    await admin.xreadgroup('GROUP', 'ergon', 'dead-one', 'COUNT', 10, 'STREAMS', stream, '>');
    expect(await c.fetchTransactions({ limit: 10 })).toEqual([]);
    await sleep(700);
    const got = await c.fetchTransactions({ limit: 10 });
    expect(ns(got)).toEqual([1, 2]);
    expect(got[0]?.metadata[REDIS_METADATA.deliveries]).toBe('2');
  });

  it('a live consumer renews what it holds: nobody takes it over while it works', async () => {
    const stream = name();
    // Renewed every third of claimIdle: 1 s leaves a loaded machine's late timers room (with 300 ms,
    // one renewal 200 ms late let the other consumer take the entry over).
    const a = connector({ stream, claimIdle: '1s' });
    const b = connector({ stream, claimIdle: '1s' });
    await a.dispatchTransactions([tx(1)]);
    const [held] = await a.fetchTransactions({ limit: 1 });
    // Twice claimIdle: without renewals, b would take it over in this time.
    const until = Date.now() + 2200;
    while (Date.now() < until) expect(await b.fetchTransactions({ limit: 1 })).toEqual([]);
    await a.ack(held as Transaction<{ n: number }>);
  });

  it('a consumer with a name kept across restarts takes its own pending entries back at once', async () => {
    const stream = name();
    const first = connector({ stream, consumer: 'worker-1', claimIdle: '1h' });
    await first.dispatchTransactions([tx(1), tx(2)]);
    expect(ns(await first.fetchTransactions({ limit: 10 }))).toEqual([1, 2]);
    // Gone without a stop (a crash): its entries stay pending under its name.
    await first.service.stop();
    const restarted = connector({ stream, consumer: 'worker-1', claimIdle: '1h' });
    expect(ns(await restarted.fetchTransactions({ limit: 10 }))).toEqual([1, 2]);
  });

  it('stop gives held entries back: another consumer gets them at once, same ids', async () => {
    const stream = name();
    const a = connector({ stream, claimIdle: '1h' });
    const b = connector({ stream, claimIdle: '1h' });
    await a.dispatchTransactions([tx(1), tx(2)]);
    const held = await a.fetchTransactions({ limit: 10 });
    await a.stop();
    const again = await b.fetchTransactions({ limit: 10 });
    expect(again.map((t) => t.id)).toEqual(held.map((t) => t.id));
  });

  it('an abort ends a blocked fetch at once, and the connection reads on', async () => {
    const stream = name();
    const c = connector({ stream, block: '20s' });
    expect(await c.fetchTransactions({ limit: 1, signal: AbortSignal.timeout(1) })).toEqual([]);
    const controller = new AbortController();
    const waiting = c.fetchTransactions({ limit: 1, signal: controller.signal });
    await sleep(200);
    const began = Date.now();
    controller.abort();
    expect(await waiting).toEqual([]);
    // At the abort, not at the end of the 20 s block.
    expect(Date.now() - began).toBeLessThan(10_000);
    const later = c.fetchTransactions({ limit: 1, signal: AbortSignal.timeout(5000) });
    await sleep(100);
    await c.dispatchTransactions([tx(9)]);
    expect(ns(await later)).toEqual([9]);
  });

  it('a blocked fetch wakes as soon as an entry arrives (blocking read, not polling)', async () => {
    const stream = name();
    const c = connector({ stream, block: '10s' });
    const p = connector({ stream });
    await c.fetchTransactions({ limit: 1, signal: AbortSignal.timeout(1) });
    const waiting = c.fetchTransactions({ limit: 1 });
    await sleep(100);
    const sent = Date.now();
    await p.dispatchTransactions([tx(1)]);
    expect(ns(await waiting)).toEqual([1]);
    // Woken by the entry, not by the end of the 10 s block (a bound no loaded machine comes near).
    expect(Date.now() - sent).toBeLessThan(5000);
  });

  it('a stop during a blocked fetch resolves it empty; start and stop are idempotent', async () => {
    const stream = name();
    const c = connector({ stream, block: '20s' });
    await Promise.all([c.start(), c.start()]);
    const waiting = c.fetchTransactions({ limit: 1 });
    await sleep(100);
    const began = Date.now();
    await Promise.all([c.stop(), c.stop()]);
    expect(await waiting).toEqual([]);
    // At the stop, not at the end of the 20 s block.
    expect(Date.now() - began).toBeLessThan(10_000);
    await c.stop();
    await c.start();
    await c.dispatchTransactions([tx(1)]);
    expect(ns(await c.fetchTransactions({ limit: 1 }))).toEqual([1]);
  });

  it('makes the group again when the stream was deleted meanwhile', async () => {
    const stream = name();
    const c = connector({ stream });
    await c.fetchTransactions({ limit: 1 });
    await admin.del(stream);
    await admin.xadd(stream, '*', 'id', 'tx-1', 'payload', '{"n":1}');
    expect(ns(await c.fetchTransactions({ limit: 1 }))).toEqual([1]);
  });
});

describe.runIf(redisAvailable)('RedisStreamsConnector: dispatching and finding', () => {
  it('writes one entry per transaction: id, payload, each metadata key as a field', async () => {
    const stream = name();
    const c = connector({ stream });
    await c.dispatchTransactions([
      tx(1, { traceparent: 'tp', 'x-tenant': 'acme', [REDIS_METADATA.entry]: '1-1' }),
    ]);
    const entries = await admin.xrange(stream, '-', '+');
    expect(entries.map(([, fields]) => fields)).toEqual([
      ['id', 'tx-1', 'payload', '{"n":1}', 'traceparent', 'tp', 'x-tenant', 'acme'],
    ]);
  });

  it('refuses payloads over the codec limit and metadata named like the id field, before writing', async () => {
    const stream = name();
    const c = connector<unknown>({ stream, codec: createJsonCodec({ maxBytes: 16 }) });
    await expect(
      c.dispatchTransactions([createTransaction({ payload: 'x'.repeat(40) })]),
    ).rejects.toMatchObject({
      code: ErrorCode.CODEC_TOO_LARGE,
    });
    await expect(c.dispatchTransactions([tx(1, { id: 'x' })])).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
    expect(await admin.exists(stream)).toBe(0);
  });

  it('a publish Redis refuses rejects with CONNECTOR_ERROR, and nothing of the batch is added', async () => {
    const stream = name();
    await admin.set(stream, 'not a stream');
    const c = connector({ stream });
    const error = await c.dispatchTransactions([tx(1), tx(2)]).catch((e: unknown) => e);
    expect(hasErrorCode(error, ErrorCode.CONNECTOR_ERROR)).toBe(true);
    expect((error as Error).message).toMatch(/WRONGTYPE.*not a stream/);
  });

  it('carries rich payloads with core’s codec on both sides', async () => {
    const stream = name();
    const c = connector<{ at: Date; tags: Set<string> }>({ stream, codec: defaultCodec });
    const at = new Date('2024-01-02T03:04:05Z');
    await c.dispatchTransactions([createTransaction({ id: 'r-1', payload: { at, tags: new Set(['a']) } })]);
    const [got] = await c.fetchTransactions({ limit: 1 });
    expect(got?.payload.at).toEqual(at);
    expect(got?.payload.tags).toEqual(new Set(['a']));
  });

  it('trims the stream on dispatch by length', async () => {
    const stream = name();
    const c = connector({ stream, trim: { maxLength: 3, exact: true } });
    await c.dispatchTransactions([1, 2, 3, 4, 5].map((n) => tx(n)));
    expect(await admin.xlen(stream)).toBe(3);
  });

  it('records entries trimmed away before they were acked in the dead-letter stream', async () => {
    const stream = name();
    const c = connector({ stream, claimIdle: '100ms' });
    await c.dispatchTransactions([tx(1), tx(2)]);
    await admin.xgroup('CREATE', stream, 'ergon', '0').catch(() => undefined);
    await admin.xreadgroup('GROUP', 'ergon', 'dead-one', 'COUNT', 10, 'STREAMS', stream, '>');
    await admin.xtrim(stream, 'MAXLEN', 1);
    await sleep(150);
    expect(ns(await c.fetchTransactions({ limit: 10 }))).toEqual([2]);
    const [dead] = await c.readDeadLetters();
    expect(dead?.reason.message).toMatch(/trimmed/);
  });

  it('finds a transaction by id field or by entry id without taking it', async () => {
    const stream = name();
    const c = connector({ stream });
    await c.dispatchTransactions([tx(1, { 'x-a': 'b' }), tx(2)]);
    const entry = await admin.xadd(stream, '*', 'payload', '{"n":3}');
    expect(await c.findTransaction('tx-1')).toMatchObject({
      id: 'tx-1',
      payload: { n: 1 },
      metadata: { 'x-a': 'b' },
    });
    expect((await c.findTransaction(`${streamPrefix(stream)}:${entry}`))?.payload).toEqual({ n: 3 });
    expect(await c.findTransaction('tx-404')).toBeUndefined();
    expect(await c.findTransaction(`${streamPrefix(stream)}:1-0`)).toBeUndefined();
    expect(ns(await c.fetchTransactions({ limit: 10 }))).toEqual([1, 2, 3]);
    const found = await c.findTransaction('tx-2');
    expect(found?.metadata[REDIS_METADATA.deliveries]).toBe('1');
  });

  it('ack and nack refuse transactions that were not fetched from this stream', async () => {
    const c = connector({ stream: name() });
    await expect(c.ack(tx(1))).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(c.nack(tx(1), { requeue: true })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
  });

  it('reports health: unhealthy before start, healthy after', async () => {
    const c = connector({ stream: name() });
    expect((await c.service.health()).healthy).toBe(false);
    await c.start();
    expect(await c.service.health()).toEqual({ healthy: true });
    expect(DEAD_LETTER_FIELDS.reason).toBe('dead-letter.reason');
  });
});
