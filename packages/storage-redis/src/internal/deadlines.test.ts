import { createServer, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Deadlines, ScriptCommand } from './deadlines.js';
import { type LoadedScript, runScript } from './scripts.js';

/** A server that takes connections and never answers. */
async function silentServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.on('data', () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

const SCRIPT: LoadedScript = {
  name: 'record-operation',
  numberOfKeys: 1,
  lua: 'return 1',
  sha: 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db',
  sentOn: new WeakSet(),
};

describe('script command deadlines', () => {
  const closing: (() => void)[] = [];
  afterEach(() => {
    for (const close of closing.splice(0)) close();
  });

  it('fails an unanswered script command with "Command timed out" after commandTimeout, without a timer of its own', async () => {
    const { server, port } = await silentServer();
    const client = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      enableReadyCheck: false,
      commandTimeout: 200,
      maxRetriesPerRequest: 1,
    });
    closing.push(
      () => server.close(),
      () => client.disconnect(),
    );
    await client.connect();
    const script = { ...SCRIPT, sentOn: new WeakSet<object>([client.stream]) };
    const started = performance.now();
    const first = runScript(client, script, ['k']).catch((error: Error) => [
      error.message,
      performance.now(),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = runScript(client, script, ['k']).catch((error: Error) => [
      error.message,
      performance.now(),
    ]);
    const [r1, r2] = (await Promise.all([first, second])) as [string, number][];
    const [m1, t1] = r1 as [string, number];
    const [m2, t2] = r2 as [string, number];
    expect(m1).toBe('Command timed out');
    expect(m2).toBe('Command timed out');
    expect(t1 - started).toBeGreaterThanOrEqual(190);
    expect(t2 - started).toBeGreaterThanOrEqual(290);
    expect(t2 - started).toBeLessThan(2000);
  });

  it('tells ioredis a timer is set, so it starts none (an ioredis upgrade that renames the field fails here)', () => {
    const command = new ScriptCommand('evalsha', ['sha', '0']);
    command.setTimeout(10_000);
    expect(Object.hasOwn(command, '_commandTimeoutTimer')).toBe(false);
  });

  it('lets answered commands go from the front and keeps the unanswered', () => {
    const deadlines = new Deadlines(60_000);
    const a = new ScriptCommand('evalsha', []);
    const b = new ScriptCommand('evalsha', []);
    const c = new ScriptCommand('evalsha', []);
    deadlines.watch(a);
    deadlines.watch(b);
    a.resolve('1');
    b.reject(new Error('ERR'));
    b.promise.catch(() => {});
    deadlines.watch(c);
    expect(deadlines.size).toBe(1);
    c.resolve('1');
  });
});
