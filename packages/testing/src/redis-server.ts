/**
 * A `redis-server` of a test's own, on a free port in a temp dir, for tests
 * that kill, pause or restart Redis (never the shared one on 6379).
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  const ok = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!ok) {
    const message = 'redis-server is not installed: install Redis 7 (apt-get install redis-server)';
    if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
    console.warn(`\n*** SKIPPING private redis-server tests: ${message} ***\n`);
  }
  return ok;
}

const live = new Set<PrivateRedisServer>();
process.once('exit', () => {
  for (const server of live) server.killNow();
});

/** A private `redis-server` (`--save '' --appendonly no` unless overridden by extra arguments). */
export class PrivateRedisServer {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Its working directory (a fresh temporary one). */
  readonly dir: string;
  /** Every `redis-server` argument it runs with (its own, then the extra ones; used again on restart). */
  readonly args: readonly string[];
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string, args: readonly string[]) {
    this.port = port;
    this.dir = dir;
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
    live.add(server);
    await server.spawn();
    return server;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts, same port and dir) the process; resolves once it answers PING. */
  async spawn(): Promise<void> {
    const child = spawn('redis-server', this.args, { stdio: 'ignore' });
    this.#process = child;
    const deadline = Date.now() + 10_000;
    while (!(await ping(this.port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('redis-server did not start within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** SIGKILL (no shutdown save); resolves when the process is gone. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGKILL without waiting, for exit handlers. */
  killNow(): void {
    this.#process?.kill('SIGKILL');
  }

  /** Kills the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True when the server answers `+PONG` (not while it is still loading its data). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}
