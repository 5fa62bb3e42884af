// Several processes on one file: every line is handled exactly once, and the
// lines of a process that was SIGKILLed are taken over at once.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createJsonLinesConnector } from '../src/index.js';
import { readJsonLines, tempDirs, writeLines } from './support.js';

const temp = tempDirs();
const WORKER = fileURLToPath(new URL('./fixtures/claim-worker.mjs', import.meta.url));

function spawn(args: string[]): ChildProcess {
  return fork(WORKER, args, { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

describe('claims across processes', () => {
  it('4 processes draining one file handle every line exactly once', async () => {
    const dir = await temp();
    const path = join(dir, 'in.jsonl');
    const ledger = join(dir, 'ledger.jsonl');
    await writeLines(
      path,
      Array.from({ length: 400 }, (_, i) => ({ n: i })),
    );
    const children = Array.from({ length: 4 }, () => spawn(['drain', path, ledger]));
    for (const child of children) child.send('go');
    await Promise.all(children.map((c) => once(c, 'exit')));
    const entries = await readJsonLines<{ line: string; pid: number }>(ledger);
    const lines = entries.map((e) => Number(e.line)).sort((a, b) => a - b);
    expect(lines).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.pid)).size).toBeGreaterThan(1);
  });

  it('lines held by a SIGKILLed process are delivered again at once', async () => {
    const dir = await temp();
    const path = join(dir, 'in.jsonl');
    await writeLines(
      path,
      [1, 2, 3, 4].map((n) => ({ n })),
    );
    const child = spawn(['hold', path, join(dir, 'unused')]);
    const [message] = (await once(child, 'message')) as [{ held: string[] }];
    expect(message.held).toEqual(['1', '2', '3']);
    // While it lives, its claims hold.
    const probe = createJsonLinesConnector<{ n: number }>({ path, claimTimeout: '1h' });
    expect((await probe.fetchTransactions({ limit: 10 })).map((t) => t.payload.n)).toEqual([4]);
    child.kill('SIGKILL');
    await once(child, 'exit');
    // Long claim timeout: the takeover comes from seeing the holder's pid is gone.
    expect((await probe.fetchTransactions({ limit: 10 })).map((t) => t.payload.n)).toEqual([1, 2, 3]);
    await probe.stop();
  });
});
