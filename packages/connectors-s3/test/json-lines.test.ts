// JSON-lines objects against the private s3rver (or ERGON_S3_URL): one
// transaction per line, a bad line dead-lettered on its own, the object
// finished once every line is settled.
import { afterEach, describe, expect, it } from 'vitest';
import { createS3Connector, type S3Connector } from '../src/index.js';
import { connectorOptions, deleteUnder, uniquePrefix, useS3 } from './support.js';

const s3 = useS3();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(): Promise<{ prefix: string; lines: S3Connector<{ n: number }> }> {
  const prefix = uniquePrefix();
  const lines = createS3Connector<{ n: number }>({
    ...connectorOptions(s3.current, prefix),
    format: 'json-lines',
    fetchWait: '500ms',
  });
  cleanups.push(
    () => deleteUnder(s3.current, prefix.slice(0, -1)),
    () => lines.stop(),
  );
  await lines.start();
  return { prefix, lines };
}

describe('JSON-lines objects', () => {
  it('give one transaction per line, ids <key>#<line>, and finish the object once every line is settled', async () => {
    const { prefix, lines } = await setUp();
    await lines.service.put(`${prefix}batch-1`, '{"n":1}\n{"n":2}\n\n{not json\n{"n":4}\n');
    const txs = await lines.fetchTransactions({ limit: 10 });
    expect(txs.map((tx) => [tx.id, tx.payload])).toEqual([
      [`${prefix}batch-1#1`, { n: 1 }],
      [`${prefix}batch-1#2`, { n: 2 }],
      [`${prefix}batch-1#5`, { n: 4 }],
    ]);
    const [bad] = await lines.readDeadLetters();
    expect(bad).toMatchObject({ id: `${prefix}batch-1#4`, reason: { code: 'CODEC_MALFORMED' } });
    const [first, second, third] = txs as [(typeof txs)[0], (typeof txs)[0], (typeof txs)[0]];
    await lines.ack(first);
    await lines.nack(second, { requeue: true });
    const [again] = await lines.fetchTransactions({ limit: 10 });
    expect(again?.id).toBe(second.id);
    await lines.ack(again as typeof second);
    expect(await lines.service.listAll(prefix), 'one line still open: the object stays').toHaveLength(1);
    await lines.nack(third, { requeue: false, reason: new Error('refused by the ledger') });
    expect(await lines.service.listAll(prefix)).toEqual([]);
    expect((await lines.service.listAll(lines.options.donePrefix)).map((o) => o.key)).toEqual([
      `${lines.options.donePrefix}batch-1`,
    ]);
    const letters = await lines.readDeadLetters();
    expect(letters.map((l) => [l.id, l.reason.message])).toEqual([
      [`${prefix}batch-1#4`, expect.stringContaining('not JSON')],
      [`${prefix}batch-1#5`, 'refused by the ledger'],
    ]);
  });

  it('find a line by id without claiming it', async () => {
    const { prefix, lines } = await setUp();
    await lines.service.put(`${prefix}batch-2`, '{"n":1}\n{"n":2}\n');
    const found = await lines.findTransaction(`${prefix}batch-2#2`);
    expect(found?.payload).toEqual({ n: 2 });
    expect(await lines.findTransaction(`${prefix}batch-2#7`)).toBeUndefined();
    expect(await lines.fetchTransactions({ limit: 5 })).toHaveLength(2);
  });
});
