import { appendFile, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransaction, ErrorCode, hasErrorCode, NonRetryableError } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import {
  createJsonLinesConnector,
  FILE_METADATA,
  filePrefix,
  JsonLinesFileService,
  TRACE_FIELD,
} from '../src/index.js';
import { readJsonLines, tempDirs, writeLines } from './support.js';

const temp = tempDirs();

async function source(values: readonly unknown[]) {
  const dir = await temp();
  const path = join(dir, 'in.jsonl');
  await writeLines(path, values);
  return { dir, path };
}

describe('JsonLinesConnector: reading', () => {
  it('reads one transaction per line with stable ids from path and line, or from the id field', async () => {
    const { path } = await source([{ n: 1 }, { id: 'order-7', n: 2 }, '   ', { n: 3 }]);
    const a = createJsonLinesConnector<{ n: number }>({ path });
    const txs = await a.fetchTransactions({ limit: 10 });
    expect(txs.map((t) => t.payload.n)).toEqual([1, 2, 3]);
    const prefix = filePrefix(path);
    expect(txs.map((t) => t.id)).toEqual([`${prefix}:1`, 'order-7', `${prefix}:4`]);
    expect(txs[0]?.metadata[FILE_METADATA.line]).toBe('1');
    expect(txs[0]?.metadata[FILE_METADATA.path]).toBe(path);
    expect(Object.isFrozen(txs[0]?.payload)).toBe(true);
    await a.stop();
  });

  it('honours the fetch limit and hands out each line once', async () => {
    const { path } = await source([1, 2, 3, 4, 5].map((n) => ({ n })));
    const c = createJsonLinesConnector<{ n: number }>({ path });
    const first = await c.fetchTransactions({ limit: 2 });
    const second = await c.fetchTransactions({ limit: 10 });
    expect(first.map((t) => t.payload.n)).toEqual([1, 2]);
    expect(second.map((t) => t.payload.n)).toEqual([3, 4, 5]);
    expect(await c.fetchTransactions({ limit: 10 })).toEqual([]);
    await c.stop();
  });

  it('dead-letters malformed lines with their line numbers and never returns them', async () => {
    const { path } = await source([
      { n: 1 },
      '{not json',
      { n: 3 },
      '{"__proto__": {"x": 1}}',
      { id: 'bad id!' },
    ]);
    const c = createJsonLinesConnector<{ n: number }>({ path });
    const txs = await c.fetchTransactions({ limit: 10 });
    expect(txs.map((t) => t.payload.n)).toEqual([1, 3]);
    const dead = await readJsonLines<{ line: number; text: string; reason: { code?: string } }>(
      c.service.options.deadLetterPath,
    );
    expect(dead.map((d) => d.line)).toEqual([2, 4, 5]);
    expect(dead[0]?.text).toBe('{not json');
    expect(dead[0]?.reason).toMatchObject({ name: 'SerializationError', code: ErrorCode.CODEC_MALFORMED });
    expect(dead[1]?.reason.code).toBe(ErrorCode.CODEC_UNSAFE_KEY);
    expect(dead[2]?.reason.code).toBe(ErrorCode.INVALID_ID);
    await c.stop();
    // Dead-lettered lines are finished: a new instance does not see them again.
    const again = createJsonLinesConnector<{ n: number }>({ path });
    const rest = await again.fetchTransactions({ limit: 10 });
    expect(rest.map((t) => t.payload.n)).toEqual([1, 3]);
    await again.stop();
  });

  it('reads lines appended later; in follow mode an unterminated line waits for its newline', async () => {
    const dir = await temp();
    const path = join(dir, 'grow.jsonl');
    await writeFile(path, '{"n":1}\n{"n":');
    const c = createJsonLinesConnector<{ n: number }>({ path, follow: true });
    expect((await c.fetchTransactions({ limit: 10 })).map((t) => t.payload.n)).toEqual([1]);
    await appendFile(path, '2}\n{"n":3}\n');
    expect((await c.fetchTransactions({ limit: 10 })).map((t) => t.payload.n)).toEqual([2, 3]);
    await c.stop();
  });
});

describe('JsonLinesConnector: line boundaries', () => {
  it('reads CRLF endings, multi-byte text and lines longer than a read chunk', async () => {
    const dir = await temp();
    const path = join(dir, 'big.jsonl');
    const long = 'é'.repeat(70_000); // 140 kB: spans several 64 kB reads, splitting characters
    await writeFile(path, `{"n":1}\r\n${JSON.stringify({ n: 2, long })}\n{"n":3,"s":"ß"}`);
    const c = createJsonLinesConnector<{ n: number; long?: string; s?: string }>({ path });
    const txs = await c.fetchTransactions({ limit: 10 });
    expect(txs.map((t) => t.payload.n)).toEqual([1, 2, 3]);
    expect(txs[1]?.payload.long).toBe(long);
    expect(txs[2]?.payload.s).toBe('ß');
    expect(txs.map((t) => t.metadata[FILE_METADATA.line])).toEqual(['1', '2', '3']);
    await c.stop();
  });
});

describe('JsonLinesConnector: ack, nack, restarts', () => {
  it('acked lines are never delivered again; unacked ones are requeued on stop', async () => {
    const { path } = await source([1, 2, 3].map((n) => ({ n })));
    const a = createJsonLinesConnector<{ n: number }>({ path });
    const txs = await a.fetchTransactions({ limit: 3 });
    await a.ack(txs[0]!);
    await a.stop();
    const b = createJsonLinesConnector<{ n: number }>({ path });
    expect((await b.fetchTransactions({ limit: 10 })).map((t) => t.payload.n)).toEqual([2, 3]);
    await b.stop();
  });

  it('nack with requeue hands the line out again; without, it is dead-lettered with the reason', async () => {
    const { path } = await source([{ n: 1 }, { n: 2 }]);
    const c = createJsonLinesConnector<{ n: number }>({ path });
    const [one, two] = await c.fetchTransactions({ limit: 2 });
    await c.nack(one!, { requeue: true });
    await c.nack(two!, { requeue: false, reason: new Error('boom') });
    const again = await c.fetchTransactions({ limit: 10 });
    expect(again.map((t) => t.id)).toEqual([one!.id]);
    const dead = await readJsonLines<{ line: number; id: string; reason: { message: string } }>(
      c.service.options.deadLetterPath,
    );
    expect(dead).toMatchObject([{ line: 2, id: two!.id, reason: { message: 'boom' } }]);
    await c.stop();
  });

  it('every dead letter carries a reason with a name, a message and a code, whatever the nack gave', async () => {
    const { path } = await source([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    const c = createJsonLinesConnector<{ n: number }>({ path });
    const [plain, coded, text, none] = await c.fetchTransactions({ limit: 4 });
    await c.nack(plain!, { requeue: false, reason: new Error('boom') });
    await c.nack(coded!, { requeue: false, reason: new NonRetryableError('declined') });
    await c.nack(text!, { requeue: false, reason: 'a plain string' });
    await c.nack(none!, { requeue: false });
    const dead = await readJsonLines<{
      line: number;
      reason: { name: string; message: string; code: string };
    }>(c.service.options.deadLetterPath);
    expect(dead.map((d) => [d.line, d.reason.code])).toEqual([
      [1, ErrorCode.INTERNAL],
      [2, ErrorCode.NON_RETRYABLE],
      [3, ErrorCode.INTERNAL],
      [4, ErrorCode.NON_RETRYABLE],
    ]);
    expect(dead[2]?.reason.message).toBe('a plain string');
    expect(dead[3]?.reason.message).toMatch(/without a reason/);
    for (const d of dead) expect(typeof d.reason.name).toBe('string');
    await c.stop();
  });

  it('two instances never hold the same line; released lines go to the next fetch', async () => {
    const { path } = await source([1, 2, 3, 4].map((n) => ({ n })));
    const a = createJsonLinesConnector<{ n: number }>({ path, claimTimeout: 600 });
    const b = createJsonLinesConnector<{ n: number }>({ path, claimTimeout: 600 });
    const fromA = await a.fetchTransactions({ limit: 2 });
    const fromB = await b.fetchTransactions({ limit: 10 });
    expect(fromA.map((t) => t.payload.n)).toEqual([1, 2]);
    expect(fromB.map((t) => t.payload.n)).toEqual([3, 4]);
    await new Promise((r) => setTimeout(r, 800)); // past the timeout: a's heartbeats keep its claims
    expect(await b.fetchTransactions({ limit: 10 })).toEqual([]);
    await a.ack(fromA[0]!);
    await a.nack(fromA[1]!, { requeue: true });
    expect((await b.fetchTransactions({ limit: 10 })).map((t) => t.payload.n)).toEqual([2]);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('takes over a claim whose holder stopped heart-beating, and only then', async () => {
    const { path } = await source([{ n: 1 }, { n: 2 }]);
    const c = createJsonLinesConnector<{ n: number }>({ path, claimTimeout: 1000 });
    // Claims as another host would leave them (layout documented in the README).
    const shard = join(c.service.options.stateDir, 'lines', '0');
    await mkdir(shard, { recursive: true });
    const holder = JSON.stringify({ id: 'elsewhere:1:x', host: 'elsewhere', pid: 1 });
    await writeFile(join(shard, '1.0.claim'), holder);
    await writeFile(join(shard, '2.0.claim'), holder);
    const old = new Date(Date.now() - 5000);
    await utimes(join(shard, '1.0.claim'), old, old);
    expect((await c.fetchTransactions({ limit: 10 })).map((t) => t.payload.n)).toEqual([1]);
    await c.stop();
  });

  it('reads a file larger than its read-ahead in order, across instances', async () => {
    const values = Array.from({ length: 1500 }, (_, i) => (i % 700 === 0 ? '' : { n: i + 1 }));
    const { path } = await source(values);
    const a = createJsonLinesConnector<{ n: number }>({ path });
    const b = createJsonLinesConnector<{ n: number }>({ path });
    const seen: number[] = [];
    let idle = 0;
    for (let round = 0; idle < 2; round++) {
      const c = round % 2 === 0 ? a : b;
      const txs = await c.fetchTransactions({ limit: 400 });
      idle = txs.length === 0 ? idle + 1 : 0;
      for (const tx of txs) {
        seen.push(tx.payload.n);
        await c.ack(tx);
      }
    }
    expect(seen).toEqual(values.flatMap((v) => (typeof v === 'string' ? [] : [v.n])));
    await Promise.all([a.stop(), b.stop()]);
    // About 15,000 file-system metadata operations (claims, done markers): 2–5 s on a quiet
    // machine, far longer while other suites fsync the same disk.
  }, 120_000);

  it('restarts skip finished lines via the watermark', async () => {
    const values = Array.from({ length: 250 }, (_, i) => ({ n: i + 1 }));
    const { path } = await source(values);
    const a = createJsonLinesConnector<{ n: number }>({ path });
    for (const tx of await a.fetchTransactions({ limit: 200 })) await a.ack(tx);
    await a.stop();
    const b = createJsonLinesConnector<{ n: number }>({ path });
    const rest = await b.fetchTransactions({ limit: 100 });
    expect(rest.map((t) => t.payload.n)).toEqual(values.slice(200).map((v) => v.n));
    await b.stop();
  });

  it('refuses to ack a transaction it did not fetch', async () => {
    const { path } = await source([{ n: 1 }]);
    const c = createJsonLinesConnector({ path });
    const other = createJsonLinesConnector({ path: `${path}.other` });
    const [tx] = await c.fetchTransactions({ limit: 1 });
    await expect(other.ack(tx!)).rejects.toSatisfy((e) => hasErrorCode(e, ErrorCode.INVALID_ARGUMENT));
    await c.stop();
  });
});

describe('JsonLinesConnector: finding one transaction by id', () => {
  it('finds a line by its id field or its line id, without claiming it, finished or not', async () => {
    const { path } = await source([
      { id: 'order-1', n: 1 },
      '{not json',
      { n: 3, note: 'mentions "order-2" but is not it' },
      { id: 'order-2', n: 4 },
    ]);
    const c = createJsonLinesConnector<{ n: number }>({ path });
    const prefix = filePrefix(path);
    expect((await c.findTransaction('order-2'))?.payload.n).toBe(4);
    const byLine = await c.findTransaction(`${prefix}:3`);
    expect(byLine?.payload.n).toBe(3);
    expect(byLine?.metadata[FILE_METADATA.line]).toBe('3');
    expect(await c.findTransaction('order-9')).toBeUndefined();
    expect(await c.findTransaction(`${prefix}:99`)).toBeUndefined();
    await expect(c.findTransaction(`${prefix}:2`)).rejects.toSatisfy(
      (e) => hasErrorCode(e, ErrorCode.CODEC_MALFORMED) && /line 2 is not JSON/.test((e as Error).message),
    );
    // Nothing was claimed: a fetch still hands out every good line, and finished lines are still found.
    const fetched = await c.fetchTransactions({ limit: 10 });
    expect(fetched.map((t) => t.payload.n)).toEqual([1, 3, 4]);
    for (const tx of fetched) await c.ack(tx);
    expect((await c.findTransaction('order-1'))?.payload.n).toBe(1);
    await c.stop();
  });

  it('honours an aborted signal, and finds nothing by field when ids come from lines only', async () => {
    const { path } = await source([{ id: 'a', n: 1 }]);
    const c = createJsonLinesConnector<{ n: number }>({ path, idField: false });
    expect(await c.findTransaction('a')).toBeUndefined();
    await expect(
      c.findTransaction(`${filePrefix(path)}:1`, { signal: AbortSignal.abort() }),
    ).rejects.toThrow();
    expect((await c.findTransaction(`${filePrefix(path)}:1`))?.payload.n).toBe(1);
  });
});

describe('JsonLinesConnector: sink', () => {
  it('appends dispatched payloads as JSON lines, with their ids, readable as a source', async () => {
    const dir = await temp();
    const path = join(dir, 'out.jsonl');
    const sink = createJsonLinesConnector<{ n: number }>({ path });
    const input = createJsonLinesConnector<{ n: number }>({ path: join(dir, 'in.jsonl') });
    await writeLines(join(dir, 'in.jsonl'), [{ n: 1 }, { n: 2 }]);
    const txs = await input.fetchTransactions({ limit: 2 });
    await sink.dispatchTransactions(txs);
    await sink.dispatchTransactions([]);
    const written = await readJsonLines<{ id: string; n: number }>(path);
    expect(written).toEqual(txs.map((t) => ({ id: t.id, n: t.payload.n })));
    const reread = await sink.fetchTransactions({ limit: 10 });
    expect(reread.map((t) => t.id)).toEqual(txs.map((t) => t.id));
    await Promise.all([sink.stop(), input.stop()]);
  });

  it('carries a transaction’s traceparent through the file to its consumer', async () => {
    const dir = await temp();
    const path = join(dir, 'traced.jsonl');
    const sink = createJsonLinesConnector<{ n: number }>({ path });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await sink.dispatchTransactions([createTransaction({ payload: { n: 7 }, metadata: { traceparent } })]);
    const [read] = await sink.fetchTransactions({ limit: 1 });
    expect(read?.metadata.traceparent).toBe(traceparent);
    expect(read?.payload).toEqual(expect.objectContaining({ n: 7 }));
    expect(TRACE_FIELD in (read?.payload ?? {})).toBe(false);
    await sink.stop();
  });
});

describe('options', () => {
  it('are validated at construction with typed errors', () => {
    const bad = [
      () => new JsonLinesFileService({ path: '' }),
      () => new JsonLinesFileService({ path: 'x', claimTimeout: 5 }),
      () => new JsonLinesFileService({ path: 'x', follow: 'yes' as unknown as boolean }),
      () => createJsonLinesConnector({ path: 'x', idField: '' }),
    ];
    for (const make of bad)
      expect(make).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }));
    expect(() => new JsonLinesFileService({ path: 'x', claimTimeout: 'soon' })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_DURATION }),
    );
  });
});
