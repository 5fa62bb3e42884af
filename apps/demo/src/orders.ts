/**
 * The demo's orders and its fake outside world: a flaky payment provider that
 * deduplicates by idempotency key, and a ledger of side effects in a file so
 * several processes can write to it.
 *
 * @module
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

export interface Order {
  readonly id: string;
  readonly customer: string;
  readonly sku: string;
  readonly amount: number;
}

/** Orders at or above this amount wait for a manager's approval. */
export const APPROVAL_THRESHOLD = 1000;

/** A deterministic set of orders. */
export function makeOrders(count: number): Order[] {
  const customers = ['ada', 'grace', 'linus', 'barbara', 'ken', 'margaret'];
  return Array.from({ length: count }, (_, i) => ({
    id: `order-${String(i + 1).padStart(3, '0')}`,
    customer: customers[i % customers.length] ?? 'ada',
    sku: `SKU-${(i * 7) % 13}`,
    amount: i % 7 === 3 ? 1200 + i * 10 : 20 + ((i * 37) % 400),
  }));
}

/** Appends one side effect to the ledger (one line: an O_APPEND write is atomic). */
export function recordEffect(ledger: string, effect: string, key: string): void {
  appendFileSync(ledger, `${effect} ${key} ${process.pid}\n`);
}

/**
 * Records a side effect once per idempotency key, as a real provider would;
 * every call is also logged as an `attempt`, so re-runs stay visible.
 */
export function recordOnce(ledger: string, effect: string, key: string): void {
  recordEffect(ledger, `attempt:${effect}`, key);
  if (!readLedger(ledger).has(`${effect} ${key}`)) recordEffect(ledger, effect, key);
}

/** Reads the ledger as counts per `effect key`. */
export function readLedger(ledger: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(ledger)) return counts;
  for (const line of readFileSync(ledger, 'utf8').split('\n')) {
    if (!line) continue;
    const [effect, key] = line.split(' ');
    const k = `${effect} ${key}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}
