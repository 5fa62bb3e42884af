/**
 * Where the demo keeps its files: `apps/demo/.ergon/` (or `ERGON_DEMO_DIR`),
 * the same for the main process, its workers and the `ergon` CLI loading
 * the demo's tasks.
 *
 * @module
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The demo's working directory. */
export const workDir = process.env.ERGON_DEMO_DIR ?? join(here, '..', '.ergon');
/** The SQLite store of the flows. */
export const dbPath = join(workDir, 'demo.db');
/** Where orders arrive, one JSON line per order (the file connector's source). */
export const ordersPath = join(workDir, 'orders.jsonl');
/** The fake outside world's record of side effects (charges, labels, hand-overs). */
export const ledgerPath = join(workDir, 'ledger.txt');
/** How many orders the feed sends (`ERGON_DEMO_ORDERS`, default 40). */
export const orderCount = Number(process.env.ERGON_DEMO_ORDERS ?? 40);
