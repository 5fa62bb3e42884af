// Dependency injection. A task declares its connectors, services and policies
// by name; every function of the task receives them, typed, in its context
// (`ctx.connectors.input`, `ctx.services.rates`, `ctx.policies.pricing`).
// Services are started before a run and stopped after it. Building the task
// from a function of its dependencies lets a test hand it fakes.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createJsonLinesConnector } from '@ergon/connectors-file';
import {
  type Connector,
  createTransaction,
  type HealthStatus,
  type Service,
  type Transaction,
} from '@ergon/core';
import { ConsumerPolicy, consumer, processOne, runTask } from '@ergon/tasks';

interface Sale {
  readonly id: string;
  readonly currency: 'EUR' | 'GBP' | 'USD';
  readonly amount: number;
}
interface PricedSale {
  readonly id: string;
  readonly usd: number;
}

/** A service: a protocol client with a lifecycle (here an exchange-rate API, faked in memory). */
class ExchangeRates implements Service {
  readonly name = 'exchange-rates';
  #rates: Map<string, number> | undefined;
  constructor(readonly source: string) {}
  async start(): Promise<void> {
    console.log(`  ${this.name} (${this.source}): started`);
    this.#rates = new Map([
      ['EUR', 1.08],
      ['GBP', 1.27],
      ['USD', 1],
    ]);
  }
  async stop(): Promise<void> {
    console.log(`  ${this.name} (${this.source}): stopped`);
    this.#rates = undefined;
  }
  async health(): Promise<HealthStatus> {
    return { healthy: this.#rates !== undefined };
  }
  toUsd(currency: string, amount: number): number {
    const rate = this.#rates?.get(currency);
    if (rate === undefined) throw new Error(`${this.name} is not started or has no rate for ${currency}`);
    return amount * rate;
  }
}

/** A policy of the task's own: plain, immutable configuration. */
class PricingPolicy {
  constructor(readonly markup: number) {
    Object.freeze(this);
  }
}

interface Dependencies {
  readonly input: Connector<Sale>;
  readonly output: Connector<PricedSale>;
  readonly rates: ExchangeRates;
  readonly markup: number;
}

export function pricingTask(deps: Dependencies) {
  return consumer({
    name: 'pricing',
    connectors: { input: deps.input, output: deps.output },
    services: { rates: deps.rates },
    policies: { consumer: new ConsumerPolicy({ mode: 'batch' }), pricing: new PricingPolicy(deps.markup) },
    processTransaction: (tx: Transaction<Sale>, ctx) => {
      // Every dependency arrives typed: ctx.services.rates is an ExchangeRates,
      // ctx.policies.pricing a PricingPolicy.
      const usd =
        ctx.services.rates.toUsd(tx.payload.currency, tx.payload.amount) * ctx.policies.pricing.markup;
      return { id: tx.id, usd: Math.round(usd * 100) / 100 };
    },
    handleSuccess: async (tx, priced, ctx) => {
      await ctx.connectors.output.dispatchTransactions?.([createTransaction({ id: tx.id, payload: priced })]);
    },
  });
}

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const file = (name: string) => fileURLToPath(new URL(name, dir));
writeFileSync(
  file('sales.jsonl'),
  '{"id":"s-1","currency":"EUR","amount":100}\n{"id":"s-2","currency":"GBP","amount":20}\n{"id":"s-3","currency":"USD","amount":5}\n',
);

console.log('a run with the real dependencies:');
const task = pricingTask({
  input: createJsonLinesConnector<Sale>({ path: file('sales.jsonl') }),
  output: createJsonLinesConnector<PricedSale>({ path: file('priced.jsonl') }),
  rates: new ExchangeRates('rates.example.com'),
  markup: 1.1,
});
const summary = await runTask(task, { handleSignals: false });
console.log(`  pricing: processed ${summary.processed}, succeeded ${summary.succeeded}`);
for (const line of readFileSync(file('priced.jsonl'), 'utf8').trim().split('\n'))
  console.log(`  priced.jsonl: ${line}`);

// The same task with fakes, one transaction at a time, as a unit test would.
console.log('one transaction with fake connectors, as in a unit test:');
const dispatched: unknown[] = [];
const fake = pricingTask({
  input: { name: 'fake-input', fetchTransactions: async () => [] },
  output: {
    name: 'fake-output',
    dispatchTransactions: async (txs) => void dispatched.push(...txs.map((t) => t.payload)),
  },
  rates: new ExchangeRates('fake'),
  markup: 2,
});
const outcome = await processOne(fake, { id: 't-1', payload: { id: 't-1', currency: 'EUR', amount: 10 } });
console.log(
  `  outcome ${outcome.status}, result ${JSON.stringify(outcome.result)}, dispatched ${JSON.stringify(dispatched)}`,
);
