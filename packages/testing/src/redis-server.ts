/**
 * A `redis-server` of a test's own, on a free port in a temp dir, for tests
 * that kill, pause or restart Redis (never the shared one on 6379): a
 * {@link PrivateServer} started from `redis-server`, ready when it answers PING.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateServer, probe, requireBinary } from './private-server.js';

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Whether `redis-server` can be started. Under `CI=true` a missing binary
 * throws (the suite fails); elsewhere it warns loudly and returns false.
 */
export function requireRedisServer(): boolean {
  return requireBinary(
    'redis-server',
    () => spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0,
    'Redis 7: apt-get install redis-server',
  );
}

/** A private `redis-server` (`--save '' --appendonly no` unless overridden by extra arguments). */
export class PrivateRedisServer extends PrivateServer {
  /** Every `redis-server` argument it runs with (its own, then the extra ones; used again on restart). */
  readonly args: readonly string[];

  private constructor(port: number, dir: string, args: readonly string[]) {
    super({ command: 'redis-server', args: () => args, ready: answersPing }, port, dir);
    this.args = args;
  }

  /** Starts a server with these extra arguments; resolves once it answers PING. */
  static async start(extra: readonly string[] = []): Promise<PrivateRedisServer> {
    const dir = mkdtempSync(join(tmpdir(), 'ergon-redis-'));
    const port = await freePort();
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ];
    const server = new PrivateRedisServer(port, dir, [...args, ...extra]);
    await server.spawn();
    return server;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
}

/** True when the server answers `+PONG` (not while it is still loading its data). */
function answersPing(port: number): Promise<boolean> {
  return probe(port, { send: 'PING\r\n', greeting: (text) => text.startsWith('+PONG') });
}
