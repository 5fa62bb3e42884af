// Histories for the suites that read them back (replay-check, fork, export):
// shipments recorded with v1 of the replay fixtures by an in-process worker.
import { type ExecutionLog, isTerminalStatus } from '@ergon/core';
import { Client, Worker } from '@ergon/executor';
import { shipment } from '../fixtures/replay-flows.js';

/** How many shipments to record, and how many the worker runs at once. */
export interface RecordOptions {
  readonly count: number;
  readonly concurrency: number;
}

/**
 * Records `count` shipments (inputs `{ n }` for n = 0..count-1, flow ids `ship-<n>`) on `store`
 * with v1, run by a worker of `concurrency` until each completes or suspends.
 */
export async function recordShipments(store: ExecutionLog, options: RecordOptions): Promise<void> {
  const { count, concurrency } = options;
  const client = new Client({ store });
  for (let n = 0; n < count; n++) await client.schedule(shipment(false), { n }, { flowId: `ship-${n}` });
  const worker = new Worker({ store, flows: [shipment(false)], concurrency, maxIdle: '20ms' }).start();
  try {
    for (;;) {
      const flows = await Promise.all(Array.from({ length: count }, (_, n) => store.getFlow(`ship-${n}`)));
      if (flows.every((f) => f && (isTerminalStatus(f.status) || f.status === 'suspended'))) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await worker.stop({ timeout: '2s' });
  }
}
