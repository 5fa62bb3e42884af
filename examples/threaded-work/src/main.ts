// Threaded CPU work. The task's work is a `threadWork(module, export)`: the
// runner runs it on a pool of `concurrency` worker threads, so CPU-bound code
// does not block the event loop and several transactions compute at once.
// A timeout terminates the thread running the work (even a tight loop that
// never yields) and the pool starts a fresh one; handlers run in the main thread.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createJsonLinesConnector } from '@ergon/connectors-file';
import { RetryPolicy, type Transaction } from '@ergon/core';
import { ConsumerPolicy, consumer, runTask, threadWork } from '@ergon/tasks';
import type { PrimeCount, PrimeJob } from './work.js';

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const input = fileURLToPath(new URL('jobs.jsonl', dir));
const jobs: PrimeJob[] = [
  { id: 'p-1', below: 2_000_000 },
  { id: 'p-2', below: 3_000_000 },
  { id: 'p-3', below: 1_000_000 },
  { id: 'p-4', below: 10, runaway: true },
  { id: 'p-5', below: 500_000 },
];
writeFileSync(input, `${jobs.map((job) => JSON.stringify(job)).join('\n')}\n`);

const results: string[] = [];
export const primes = consumer({
  name: 'primes',
  connectors: { input: createJsonLinesConnector<PrimeJob>({ path: input }) },
  policies: {
    consumer: new ConsumerPolicy({
      mode: 'batch',
      concurrency: 2, // two worker threads
      retry: { process: new RetryPolicy({ maxAttempts: 1, timeout: '5s' }) },
    }),
  },
  processTransaction: threadWork<Transaction<PrimeJob>, PrimeCount>(
    new URL('./work.js', import.meta.url),
    'countPrimes',
  ),
  handleSuccess: (tx, count) => {
    results.push(`${tx.id}: ${count.primes} primes below ${count.below} (thread ${count.thread})`);
  },
  handleException: (tx, error) => {
    results.push(`${tx.id}: ${error.name} ${(error as { code?: string }).code} after 5 s; thread terminated`);
  },
});

let heartbeats = 0;
const beat = setInterval(() => heartbeats++, 50); // the main thread stays free meanwhile
const started = Date.now();
const summary = await runTask(primes, { handleSignals: false });
clearInterval(beat);
for (const line of results.sort()) console.log(line);
console.log(
  `processed ${summary.processed}, succeeded ${summary.succeeded}, failed ${summary.failed}; ` +
    `threads created ${summary.threads?.created}, terminated ${summary.threads?.terminated}`,
);
console.log(
  `main thread stayed responsive: ${heartbeats >= Math.floor((Date.now() - started) / 50) / 2 ? 'yes' : 'no'}`,
);
