// Lease markers against the private s3rver (or ERGON_S3_URL): a holder that
// works longer than its lease keeps the object (its marker is rewritten),
// and the objects acked together are finished together, markers and all.
import { afterEach, describe, expect, it } from 'vitest';
import { createS3Connector, type S3Connector } from '../src/index.js';
import { connectorOptions, deleteUnder, uniquePrefix, useS3 } from './support.js';

const s3 = useS3();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function consumer(prefix: string): S3Connector<{ n: number }> {
  const connector = createS3Connector<{ n: number }>({
    ...connectorOptions(s3.current, prefix),
    lease: '2s',
    fetchWait: '300ms',
  });
  cleanups.push(() => connector.stop());
  return connector;
}

describe('lease markers', () => {
  it('keep an object held for several leases away from another consumer, and it is delivered once', async () => {
    const prefix = uniquePrefix();
    cleanups.push(() => deleteUnder(s3.current, prefix.slice(0, -1)));
    const holder = consumer(prefix);
    const other = consumer(prefix);
    await holder.start();
    await holder.service.put(`${prefix}order-1`, '{"n":1}', { contentType: 'application/json' });
    const [held] = await holder.fetchTransactions({ limit: 1 });
    expect(held?.id).toBe(`${prefix}order-1`);
    const marker = `${holder.options.leasePrefix}order-1`;
    const firstWrite = (await holder.service.list(holder.options.leasePrefix)).objects[0];
    // Three leases long, the other consumer keeps looking: the holder's renewals keep the object its own.
    const until = Date.now() + 6000;
    while (Date.now() < until) expect(await other.fetchTransactions({ limit: 1 })).toEqual([]);
    const rewritten = (await holder.service.list(holder.options.leasePrefix)).objects[0];
    expect(rewritten?.key).toBe(marker);
    expect(rewritten?.lastModified, 'the marker was written again').toBeGreaterThan(
      firstWrite?.lastModified ?? 0,
    );
    await holder.ack(held as NonNullable<typeof held>);
    expect(await other.fetchTransactions({ limit: 1 })).toEqual([]);
    expect((await holder.service.listAll(holder.options.donePrefix)).map((o) => o.key)).toEqual([
      `${holder.options.donePrefix}order-1`,
    ]);
  });

  it('finish the objects acked together: each moved, then the objects and their markers deleted', async () => {
    const prefix = uniquePrefix();
    cleanups.push(() => deleteUnder(s3.current, prefix.slice(0, -1)));
    const connector = consumer(prefix);
    await connector.start();
    for (let n = 1; n <= 5; n++)
      await connector.service.put(`${prefix}order-${n}`, `{"n":${n}}`, { contentType: 'application/json' });
    const txs = await connector.fetchTransactions({ limit: 5 });
    expect(txs.map((tx) => tx.payload.n)).toEqual([1, 2, 3, 4, 5]);
    expect(await connector.service.listAll(connector.options.leasePrefix)).toHaveLength(5);
    await Promise.all(txs.map((tx) => connector.ack(tx)));
    expect(await connector.service.listAll(prefix)).toEqual([]);
    expect(await connector.service.listAll(connector.options.leasePrefix)).toEqual([]);
    expect((await connector.service.listAll(connector.options.donePrefix)).map((o) => o.key)).toEqual(
      [1, 2, 3, 4, 5].map((n) => `${connector.options.donePrefix}order-${n}`),
    );
  });
});
