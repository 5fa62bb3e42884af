// A process pool: `runTask(reference, { workers: 3 })` forks three processes,
// each of which loads the task by reference (module URL + export name) and
// runs it with its own connectors. The transport shares the work; a process
// that dies is replaced (up to `restarts` times per slot) and its unfinished
// work goes back to the transport. The parent reports one summary per process.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runTask } from '@ergon/tasks';

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const input = fileURLToPath(new URL('images.jsonl', dir));
writeFileSync(
  input,
  Array.from({ length: 30 }, (_, i) => `{"id":"img-${i + 1}","width":${800 + i * 40}}\n`).join(''),
);
process.env.POOL_INPUT = input; // the children inherit the environment

const seen = new Map<string, number>();
const summary = await runTask(
  { module: new URL('./task.js', import.meta.url).href, export: 'thumbnails' },
  {
    workers: 3,
    handleSignals: false,
    onOutcome: (outcome) =>
      seen.set(outcome.transactionId ?? '?', (seen.get(outcome.transactionId ?? '?') ?? 0) + 1),
  },
);

console.log(
  `pool of ${summary.workers?.length} processes: processed ${summary.processed}, succeeded ${summary.succeeded}`,
);
for (const worker of summary.workers ?? []) {
  console.log(
    `  process ${worker.index + 1} (pid ${worker.pid}): ${worker.summary?.processed ?? 0} images, exit ${worker.exitCode}`,
  );
}
console.log(
  `every image processed exactly once: ${seen.size === 30 && [...seen.values()].every((n) => n === 1) ? 'yes' : 'no'}`,
);
