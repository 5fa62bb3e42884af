// Errors that control retries. A step is retried by its RetryPolicy unless the
// error says another attempt cannot help: an error implementing `Retryable`
// whose isRetryable() returns false, or a NonRetryableError. The final error
// is recorded in the history and rethrown on every replay as the same class,
// so the flow's own try/catch takes the same path every time.
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NonRetryableError, registerErrorClass, type Retryable, RetryPolicy } from '@ergon/core';
import { Client, FlowFailedError, flow, type StepScope, step, Worker } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';

// A domain error that knows whether retrying can help (the seed's `Retryable`).
export class PaymentError extends Error implements Retryable {
  override readonly name = 'PaymentError';
  constructor(
    readonly reason: 'network-timeout' | 'insufficient-funds',
    message: string = reason,
  ) {
    super(message);
  }
  isRetryable(): boolean {
    return this.reason === 'network-timeout';
  }
}
// Recorded errors decode as instances of their class once it is registered
// (by name); otherwise they come back as plain Errors with the same fields.
registerErrorClass(PaymentError);

interface Charge {
  readonly account: string;
  readonly cents: number;
  /** How many attempts time out before the gateway answers (a flaky network). */
  readonly flakyAttempts: number;
}

const fast = new RetryPolicy({ maxAttempts: 4, initialDelay: '20ms', maxDelay: '200ms', multiplier: 2 });

const chargeCard = step(
  'charge-card',
  (charge: Charge, scope: StepScope) => {
    if (scope.attempt <= charge.flakyAttempts)
      throw new PaymentError('network-timeout', `attempt ${scope.attempt} timed out`);
    if (charge.cents > 50_000)
      throw new PaymentError('insufficient-funds', `${charge.account} cannot pay ${charge.cents}`);
    return `paid ${charge.cents} from ${charge.account} on attempt ${scope.attempt}`;
  },
  { retry: fast },
);

const checkAddress = step(
  'check-address',
  (address: string) => {
    if (!/\d/.test(address)) throw new NonRetryableError(`address "${address}" has no house number`);
    return address;
  },
  { retry: fast },
);

export const pay = flow('pay', async (ctx, charge: Charge) => {
  try {
    return await ctx.step(chargeCard, charge);
  } catch (error) {
    // Business rejections are handled here; anything else fails the flow.
    if (error instanceof PaymentError && !error.isRetryable()) return `declined: ${error.message}`;
    throw error;
  }
});

export const deliver = flow('deliver', async (ctx, address: string) => ctx.step(checkAddress, address));

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const store = await SqliteExecutionLog.open({ path: fileURLToPath(new URL('flows.db', dir)) });
const worker = new Worker({ store, flows: [pay, deliver] }).start();
const client = new Client({ store });

async function attemptsOf(flowId: string): Promise<number> {
  const { history } = await client.get(flowId);
  return history[0]?.attempts ?? 0;
}

const flaky = await client.schedule(
  pay,
  { account: 'acc-1', cents: 1_999, flakyAttempts: 2 },
  { flowId: 'pay-flaky' },
);
console.log(
  `pay-flaky: ${await flaky.result()} (${await attemptsOf('pay-flaky')} attempts: timeouts are retried)`,
);

const broke = await client.schedule(
  pay,
  { account: 'acc-2', cents: 90_000, flakyAttempts: 0 },
  { flowId: 'pay-broke' },
);
console.log(
  `pay-broke: ${await broke.result()} (${await attemptsOf('pay-broke')} attempt: isRetryable() said no)`,
);

const down = await client.schedule(
  pay,
  { account: 'acc-3', cents: 500, flakyAttempts: 10 },
  { flowId: 'pay-down' },
);
try {
  await down.result();
} catch (error) {
  if (!(error instanceof FlowFailedError)) throw error;
  const cause = error.cause as PaymentError;
  console.log(
    `pay-down: failed after ${await attemptsOf('pay-down')} attempts (the policy's maxAttempts), ` +
      `cause ${cause.name} instanceof PaymentError=${cause instanceof PaymentError} reason=${cause.reason}`,
  );
}

const nowhere = await client.schedule(deliver, 'Main Street', { flowId: 'deliver-nowhere' });
try {
  await nowhere.result();
} catch (error) {
  if (!(error instanceof FlowFailedError)) throw error;
  const cause = error.cause as NonRetryableError;
  console.log(
    `deliver-nowhere: failed after ${await attemptsOf('deliver-nowhere')} attempt with ${cause.code}: ${cause.message}`,
  );
}

// The presets, and the delays they wait before attempts 2, 3, 4 (no jitter):
for (const [name, policy] of Object.entries({
  NONE: RetryPolicy.NONE,
  STANDARD: RetryPolicy.STANDARD,
  AGGRESSIVE: RetryPolicy.AGGRESSIVE,
})) {
  const delays = [1, 2, 3].filter((n) => n < policy.maxAttempts).map((n) => `${policy.delayAfter(n)} ms`);
  console.log(
    `RetryPolicy.${name.padEnd(10)} ${policy.maxAttempts} attempts; delays ${delays.join(', ') || 'none'}`,
  );
}

await worker.stop();
await store.close();
