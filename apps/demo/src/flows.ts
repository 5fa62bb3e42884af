/**
 * The demo's flows: an order is charged (through a flaky provider, so it
 * retries), checked by a DAG, approved by a manager when large (a signal),
 * held for a cooling-off period (a durable timer) and shipped by a child flow.
 *
 * @module
 */
import { RetryPolicy } from '@ergon/core';
import { flow, type StepScope, step } from '@ergon/executor';
import { graph } from '@ergon/graph';
import { APPROVAL_THRESHOLD, type Order, recordOnce } from './orders.js';
import { ledgerPath as LEDGER } from './config.js';

/** The payment provider fails the first attempt of every third order: a flaky dependency. */
export const chargePayment = step(
  'charge-payment',
  async (order: Order, s: StepScope) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (s.attempt === 1 && Number(order.id.slice(-3)) % 3 === 0)
      throw new Error('payment provider timed out');
    // A real provider deduplicates by idempotency key; so does this one.
    recordOnce(LEDGER, 'charge', s.idempotencyKey);
    return { receipt: `rcpt-${order.id}`, amount: order.amount };
  },
  { retry: new RetryPolicy({ maxAttempts: 4, initialDelay: '50ms', multiplier: 2 }), timeout: '5s' },
);

/** The checks, as a DAG: three independent checks, then a decision that needs all three. */
export const checks = graph<Order>('order-checks')
  .node('validateCustomer', async (_d, o) => ({ customer: o.customer, ok: true }))
  .node('checkInventory', async (_d, o) => {
    await new Promise((resolve) => setTimeout(resolve, 15));
    return { sku: o.sku, reserved: 1 };
  })
  .node('scoreFraud', async (_d, o) => ({ score: o.amount > 2000 ? 0.4 : 0.05 }))
  .node('decide', { deps: ['validateCustomer', 'checkInventory', 'scoreFraud'] }, async (d) => ({
    approved: d.validateCustomer.ok && d.checkInventory.reserved > 0 && d.scoreFraud.score < 0.5,
  }))
  .build();

/** Shipping, as a child flow. */
export const shipOrder = flow('ship-order', async (ctx, order: Order) => {
  const label = await ctx.run('print-label', (s) => {
    recordOnce(LEDGER, 'label', s.idempotencyKey);
    return `LBL-${order.id}`;
  });
  await ctx.run('hand-to-carrier', (s) => {
    recordOnce(LEDGER, 'handover', s.idempotencyKey);
  });
  return label;
});

/** One order, end to end. */
export const processOrder = flow('process-order', async (ctx, order: Order) => {
  const payment = await ctx.step(chargePayment, order);
  const result = await ctx.dag(checks, order, { maxParallel: 3 });
  if (!result.outputs.decide?.approved) return { order: order.id, status: 'rejected' as const };
  let approvedBy: string | undefined;
  if (order.amount >= APPROVAL_THRESHOLD) {
    const approval = await ctx.waitForSignal<{ by: string }>('manager-approval', { timeout: '1m' });
    approvedBy = approval.by;
  }
  await ctx.sleep('300ms'); // cooling-off period: a durable timer, survives crashes
  const label = await ctx.child(shipOrder, order);
  return { order: order.id, status: 'shipped' as const, receipt: payment.receipt, label, approvedBy };
});

export const demoFlows = [processOrder, shipOrder];
