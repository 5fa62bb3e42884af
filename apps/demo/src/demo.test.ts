// Runs the real demo (built) as a subprocess with fewer orders: it must exit 0
// and report every order (a transaction from the file connector) completed,
// the crash recovered, and effects once.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('the demo', () => {
  it('completes every order and recovers from the SIGKILL of a worker', () => {
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
    const run = spawnSync(process.execPath, [main], {
      env: { ...process.env, ERGON_DEMO_ORDERS: '16' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/orders completed\s+16\/16/);
    expect(run.stdout).toMatch(/order-feed appended 16 orders to/);
    expect(run.stdout).toMatch(/transactions\s+\d+ processed and acked by order-intake .*; 0 failed/);
    expect(run.stdout).toMatch(
      /SIGKILLed holding [1-9]\d* transactions; all recovered: [1-9]\d* taken over by the other worker/,
    );
    expect(run.stdout).toMatch(/one per order: yes/);
  }, 150_000);
});
