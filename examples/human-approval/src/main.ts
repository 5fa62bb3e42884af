// A human approval by signal, with a timeout. The flow suspends on
// `waitForSignal` (the worker is freed; nothing is held in memory) until
// someone sends the signal from any process that reaches the store, or until
// the timeout passes and the flow takes its fallback path. A signal sent
// before the flow waits is buffered, never lost; each is consumed once.
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, flow, SignalTimeoutError, Worker } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';

interface Expense {
  readonly employee: string;
  readonly cents: number;
}
interface Decision {
  readonly approved: boolean;
  readonly by: string;
}

export const expenseClaim = flow('expense-claim', async (ctx, expense: Expense) => {
  if (expense.cents < 10_000) return 'auto-approved';
  await ctx.run('notify-manager', () => `asked a manager about ${expense.employee}'s claim`);
  try {
    const decision = await ctx.waitForSignal<Decision>('manager-decision', { timeout: '1500ms' });
    return decision.approved ? `approved by ${decision.by}` : `rejected by ${decision.by}`;
  } catch (error) {
    // The timeout is recorded like any result: a replay takes this path again.
    if (error instanceof SignalTimeoutError) {
      await ctx.run('escalate', () => `escalated after ${error.timeoutMs} ms`);
      return 'escalated to finance';
    }
    throw error;
  }
});

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const store = await SqliteExecutionLog.open({ path: fileURLToPath(new URL('flows.db', dir)) });
const worker = new Worker({ store, flows: [expenseClaim] }).start();
const client = new Client({ store });

async function waitUntilSuspended(flowId: string): Promise<void> {
  while ((await client.get(flowId, { history: false })).status !== 'suspended') {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// 1. The manager answers while the flow waits.
const small = await client.schedule(expenseClaim, { employee: 'ana', cents: 4_000 }, { flowId: 'claim-1' });
console.log(`claim-1: ${await small.result()}`);

const big = await client.schedule(expenseClaim, { employee: 'ben', cents: 120_000 }, { flowId: 'claim-2' });
await waitUntilSuspended('claim-2');
const { waits } = await client.get('claim-2');
console.log(
  `claim-2 is suspended, waiting on: ${waits.map((w) => `${w.kind} ${'name' in w ? w.name : ''}`.trim()).join(', ')}`,
);
await client.signal('claim-2', 'manager-decision', { approved: true, by: 'carla' } satisfies Decision);
console.log(`claim-2: ${await big.result()}`);

// 2. The signal arrives before the flow waits for it: it is buffered.
const early = await client.schedule(expenseClaim, { employee: 'dan', cents: 50_000 }, { flowId: 'claim-3' });
await client.signal('claim-3', 'manager-decision', { approved: false, by: 'erin' } satisfies Decision);
console.log(`claim-3: ${await early.result()} (signal sent before the wait)`);

// 3. Nobody answers: the timeout fires and the flow escalates.
const ignored = await client.schedule(
  expenseClaim,
  { employee: 'fay', cents: 75_000 },
  { flowId: 'claim-4' },
);
console.log(`claim-4: ${await ignored.result()} (no signal within 1.5 s)`);

// A signal to a finished flow is refused, never dropped silently.
await client.signal('claim-4', 'manager-decision', { approved: true, by: 'late' }).catch((error) => {
  console.log(`late signal to claim-4: ${error.code}`);
});

await worker.stop();
await store.close();
