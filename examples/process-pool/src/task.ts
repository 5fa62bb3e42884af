// The task every process of the pool loads: the pool imports this module in
// each child process and runs the export named in the reference. Each process
// opens its own connector on the same file; the file's durable per-line claims
// make sure every line is processed by one of them.
import { createJsonLinesConnector } from '@ergon/connectors-file';
import type { Transaction } from '@ergon/core';
import { ConsumerPolicy, consumer } from '@ergon/tasks';

export interface Image {
  readonly id: string;
  readonly width: number;
}

const input = process.env.POOL_INPUT;
if (!input) throw new Error('POOL_INPUT is not set');

export const thumbnails = consumer({
  name: 'thumbnails',
  connectors: { input: createJsonLinesConnector<Image>({ path: input }) },
  policies: { consumer: new ConsumerPolicy({ mode: 'batch', concurrency: 2, batchSize: 2 }) },
  processTransaction: async (tx: Transaction<Image>, ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 40)); // resize…
    return `${tx.id} → ${Math.round(tx.payload.width / 4)} px by process ${ctx.worker.index + 1}/${ctx.worker.count}`;
  },
});
