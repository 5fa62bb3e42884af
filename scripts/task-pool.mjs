// A small pool for the test command: runs jobs at most `slots` at a time, in the order given (the
// caller puts the longest first, so none of them starts last and becomes the run's tail). Each job's
// output is kept and shown only when it fails, as turbo's --output-logs=errors-only did; one line per
// finished job says how long it took.
import { spawn } from 'node:child_process';

/**
 * @typedef {object} Job
 * @property {string} id  What the line about it says (`@ergon/cli test`).
 * @property {string} command  A shell command line.
 * @property {string} cwd
 * @property {NodeJS.ProcessEnv} [env]
 */

/**
 * @typedef {object} JobResult
 * @property {string} id
 * @property {number} code  Exit code (1 when killed by a signal or not started).
 * @property {number} ms  Wall time from start to exit.
 */

/** Runs one job; resolves with its result and output, never rejects. */
function run(job) {
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks = [];
    const child = spawn(job.command, {
      cwd: job.cwd,
      env: job.env ?? process.env,
      shell: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => chunks.push(chunk));
    child.stderr.on('data', (chunk) => chunks.push(chunk));
    const done = (code) =>
      resolve({ id: job.id, code, ms: Date.now() - started, output: Buffer.concat(chunks).toString() });
    child.once('error', (error) => {
      chunks.push(Buffer.from(`${error.message}\n`));
      done(1);
    });
    child.once('close', (code) => done(code ?? 1));
  });
}

/**
 * Runs `jobs` with at most `slots` at once, starting them in array order; every job runs whatever
 * the others do. Resolves with one result per job, in the order they finished.
 *
 * @param {readonly Job[]} jobs
 * @param {number} slots
 * @returns {Promise<JobResult[]>}
 */
export async function runPool(jobs, slots) {
  const queue = [...jobs];
  const results = [];
  const lane = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const result = await run(job);
      const seconds = (result.ms / 1000).toFixed(0).padStart(4);
      if (result.code === 0) console.log(`  ok   ${seconds} s  ${result.id}`);
      else {
        console.log(`\n  FAIL ${seconds} s  ${result.id} (exit ${result.code}):\n`);
        console.log(result.output.trimEnd());
        console.log('');
      }
      results.push({ id: result.id, code: result.code, ms: result.ms });
    }
  };
  await Promise.all(Array.from({ length: Math.min(slots, jobs.length) }, lane));
  return results;
}
