// Runs every example the way its README says (`node dist/main.js` in its
// folder, after the build) and checks what it prints, not only its exit code,
// so an example whose output stops showing what its README promises fails here.
// The Redis run of `switch-store` needs Redis at ERGON_REDIS_URL: without it the
// case is skipped with a loud message, and under CI=true the suite fails.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { requireService } from '@ergon/testing';
import { describe, expect, it } from 'vitest';

interface Case {
  /** The folder under examples/. */
  readonly example: string;
  /** A label when one example runs more than once. */
  readonly label?: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Every pattern must match the example's stdout. */
  readonly expect: readonly RegExp[];
  readonly needs?: 'redis';
}

const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';

const cases: readonly Case[] = [
  {
    example: 'sequential-flow',
    expect: [
      /^result of order-1: \{"lines":2,"chargeId":"ch_order-1\/charge#0","label":"label-order-1-\d+"\}$/m,
      /^status: completed$/m,
      /^ {2}0 {2}validate#0 +completed {2}attempts=1$/m,
      /^ {2}1 {2}charge#0 +completed {2}attempts=1$/m,
      /^ {2}2 {2}ship#0 +completed {2}attempts=1$/m,
      /^scheduled order-1 again: created=false, result=\{"lines":2/m,
      /^inspect it: npm run ergon -- --store sqlite:examples\/sequential-flow\/\.ergon\/flows\.db flows show order-1$/m,
    ],
  },
  {
    example: 'parallel-dag',
    expect: [
      /^order order-7 approved: true$/m,
      /^the 3 checks ran in parallel: yes$/m,
      /^finalize started after every check finished: yes$/m,
      /^graph checkout \(4 nodes\): 4 completed$/m,
      /finalize ◀ validateUser, checkInventory, checkFraud/,
      /^ {2}n0 --> n3$/m,
    ],
  },
  {
    example: 'child-flows',
    expect: [
      /^order-42 shipped 4 parcels, 17300 g: TRK-A1 TRK-B2 TRK-C3 TRK-D4$/m,
      /^ {2}child order-42\/0 +parent order-42 {2}completed$/m,
      /^ {2}child order-42\/3 +parent order-42 {2}completed$/m,
      /^children after scheduling order-42 again: 4$/m,
      /^order-43: \{"cancelled":"order-43\/1 failed"\}$/m,
    ],
  },
  {
    example: 'custom-errors',
    expect: [
      /^pay-flaky: paid 1999 from acc-1 on attempt 3 \(3 attempts: timeouts are retried\)$/m,
      /^pay-broke: declined: acc-2 cannot pay 90000 \(1 attempt: isRetryable\(\) said no\)$/m,
      /^pay-down: failed after 4 attempts .*cause PaymentError instanceof PaymentError=true reason=network-timeout$/m,
      /^deliver-nowhere: failed after 1 attempt with NON_RETRYABLE: address "Main Street" has no house number$/m,
      /^RetryPolicy\.STANDARD +3 attempts; delays 1000 ms, 2000 ms$/m,
      /^RetryPolicy\.AGGRESSIVE 10 attempts; delays 100 ms, 150 ms, 225 ms$/m,
    ],
  },
  {
    example: 'human-approval',
    expect: [
      /^claim-1: auto-approved$/m,
      /^claim-2 is suspended, waiting on: timer, signal manager-decision$/m,
      /^claim-2: approved by carla$/m,
      /^claim-3: rejected by erin \(signal sent before the wait\)$/m,
      /^claim-4: escalated to finance \(no signal within 1\.5 s\)$/m,
      /^late signal to claim-4: FLOW_FINISHED$/m,
    ],
  },
  {
    example: 'durable-timers',
    expect: [
      /^trial-ana is suspended; its timer is due in \d+ ms$/m,
      /^every worker stopped and the store closed while the flow sleeps$/m,
      /^trial-ana woke after \d+ ms of a 2000 ms sleep \(never early: yes\)$/m,
      /^steps that ran, across both workers: welcome ana, reminder ana$/m,
      /^deadline-1 woke at or after its date: true$/m,
    ],
  },
  {
    example: 'distributed-workers',
    expect: [
      /^started 3 worker processes: \d+, \d+, \d+$/m,
      /^registered workers: worker-a, worker-b, worker-c$/m,
      /^12 flows finished in \d+ ms/m,
      /^squares correct: yes$/m,
      // A worker stalled past its lease on an overloaded machine is re-claimed by design.
      /^(each flow ran once: yes|flows claimed again after a stalled worker: \d+)$/m,
      /^workers stopped$/m,
    ],
  },
  {
    example: 'crash-recovery',
    expect: [
      /^SIGKILLed worker-a holding order-\d(, order-\d)*$/m,
      /^ {2}order-\d: [2-4] of 5 steps finished at the kill$/m,
      /^all 4 orders fulfilled [\d.]+ s after the kill$/m,
      /^ {2}order-\d resumed by worker-b at step "(charge|pack|label|notify)"$/m,
      /^finished steps that ran again: 0$/m,
      /^every step's effect happened: yes$/m,
    ],
  },
  {
    example: 'pipeline-tasks',
    expect: [
      /^producer intake +processed 4, succeeded 4, failed 0 \(drained\)$/m,
      /^hybrid +invoicing processed 4, succeeded 4, failed 0 \(drained\)$/m,
      /^consumer mailer +processed 3, succeeded 2, failed 1 \(drained\)$/m,
      /^ {2}mailer: inv-o-4 failed \(refused address mallory@example\.com\); dead-lettered$/m,
      /^ {2}mailed inv-o-1 to ana@example\.com$/m,
      /^invoices\.jsonl holds 3 invoices; the dead-letter file 1 record$/m,
      /^dead letter: \{"name":"NonRetryableError",.*"code":"NON_RETRYABLE"\}$/m,
    ],
  },
  {
    example: 'threaded-work',
    expect: [
      /^p-1: 148933 primes below 2000000 \(thread \d+\)$/m,
      /^p-2: 216816 primes below 3000000 \(thread \d+\)$/m,
      /^p-4: TaskTimeoutError TIMEOUT after 5 s; thread terminated$/m,
      /^processed 5, succeeded 4, failed 1; threads created \d+, terminated 1$/m,
    ],
  },
  {
    example: 'process-pool',
    expect: [
      /^pool of 3 processes: processed 30, succeeded 30$/m,
      /^ {2}process 1 \(pid \d+\): \d+ images, exit 0$/m,
      /^ {2}process 3 \(pid \d+\): \d+ images, exit 0$/m,
      /^every image processed exactly once: yes$/m,
    ],
  },
  {
    example: 'dependency-injection',
    expect: [
      /^ {2}exchange-rates \(rates\.example\.com\): started\n {2}exchange-rates \(rates\.example\.com\): stopped\n {2}pricing: processed 3, succeeded 3$/m,
      /^ {2}priced\.jsonl: \{"id":"s-1","usd":118\.8\}$/m,
      /^ {2}outcome succeeded, result \{"id":"t-1","usd":21\.6\}, dispatched \[\{"id":"t-1","usd":21\.6\}\]$/m,
    ],
  },
  {
    example: 'telemetry',
    label: 'OTLP',
    expect: [
      /^\{"timestamp":"[^"]+","level":"info","message":"charging","trace_id":"[0-9a-f]{32}","span_id":"[0-9a-f]{16}","service":"orders","orderId":"o-1","card":"\[REDACTED\]"\}$/m,
      /^ {2}ergon_flow_runs_total\{ergon_flow_type="checkout",ergon_outcome="completed"\} 2$/m,
      /^ {2}ergon_steps_total\{ergon_flow_type="checkout",ergon_outcome="completed"\} 4$/m,
      /^OTLP collector received \d+ spans:$/m,
      /^ {2}ergon\.flow × 2$/m,
      /^ {2}ergon\.step × 4$/m,
      /^ {2}ergon\.attempt × 4$/m,
    ],
  },
  {
    example: 'telemetry',
    label: 'console',
    args: ['--console'],
    expect: [/name: 'ergon\.flow'/, /'ergon\.flow\.type': 'checkout'/, /"trace_id":"[0-9a-f]{32}"/],
  },
  {
    example: 'switch-store',
    label: 'SQLite',
    env: { ERGON_STORE: '' },
    expect: [
      /^store: SqliteExecutionLog \(sqlite:/m,
      /^result: hello, ana!$/m,
      /^history: compose#0 completed, sleep#0 completed, deliver#0 completed$/m,
    ],
  },
  {
    example: 'switch-store',
    label: 'Redis',
    env: { ERGON_STORE: REDIS_URL },
    needs: 'redis',
    expect: [
      /^store: RedisExecutionLog \(redis:/m,
      /^result: hello, ana!$/m,
      /^history: compose#0 completed, sleep#0 completed, deliver#0 completed$/m,
    ],
  },
  {
    example: 'class-form',
    expect: [
      /^class form, executor: suspended$/m,
      /^class form, resumed by a worker: Order ORDER-123 complete$/m,
      /^class form, scheduled: +Order ORDER-124 complete$/m,
      /^functional form, scheduled: Order ORDER-125 complete$/m,
      /^history of ORDER-124: chargePayment#0 → shipOrder#0 → sleep#0$/m,
      /^history of ORDER-125: chargePayment#0 → shipOrder#0 → sleep#0$/m,
    ],
  },
];

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runExample(c: Case): Promise<Run> {
  const cwd = fileURLToPath(new URL(`../${c.example}/`, import.meta.url));
  const env: Record<string, string | undefined> = { ...process.env, ...c.env };
  for (const [key, value] of Object.entries(c.env ?? {})) if (value === '') delete env[key];
  const child = spawn(process.execPath, ['dist/main.js', ...(c.args ?? [])], { cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const redis = cases.some((c) => c.needs === 'redis') ? await requireService('Redis', REDIS_URL) : undefined;

describe.concurrent('examples', () => {
  it('covers every example folder', () => {
    const folders = readdirSync(fileURLToPath(new URL('..', import.meta.url)), { withFileTypes: true })
      .filter(
        (d) =>
          d.isDirectory() && existsSync(fileURLToPath(new URL(`../${d.name}/package.json`, import.meta.url))),
      )
      .map((d) => d.name)
      .sort();
    expect([...new Set(cases.map((c) => c.example))].sort()).toEqual(folders);
  });

  // Runs of one example share its folder (its .ergon/ files), so they go one after another;
  // a run that needs a service (it keeps no files) is a test of its own, skipped without it.
  const byExample = new Map<string, Case[]>();
  for (const c of cases.filter((c) => !c.needs))
    byExample.set(c.example, [...(byExample.get(c.example) ?? []), c]);
  const tests = [
    ...[...byExample].map(([example, runs]) => ({ name: example, runs, skip: false })),
    ...cases
      .filter((c) => c.needs)
      .map((c) => ({
        name: `${c.example} (${c.label})`,
        runs: [c],
        skip: c.needs === 'redis' && !redis?.available,
      })),
  ];
  for (const test of tests) {
    // Skipped only off CI when the run's service (Redis) is down: requireService warns loudly, and
    // under CI=true it throws instead, so CI always runs it.
    it.skipIf(test.skip)(`${test.name} runs and prints what its README shows`, async () => {
      for (const c of test.runs) {
        const run = await runExample(c);
        const output = `${c.label ?? ''} exit ${run.code} ${run.signal ?? ''}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
        expect(run.code, output).toBe(0);
        for (const pattern of c.expect) expect(run.stdout, output).toMatch(pattern);
      }
    });
  }
});
