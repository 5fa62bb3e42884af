/**
 * Helpers of the Redis-backed suites: the service URL, a random prefix per
 * test, SCAN+DEL clean-up, and private `redis-server` processes.
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type Logger, noopLogger } from '@ergon/core';
import { requireService } from '@ergon/testing';
import { Redis } from 'ioredis';
import { RedisExecutionLog } from '../index.js';

/** The shared Redis of the development and CI machines (DESIGN §8). */
export const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether the shared Redis answers; under CI=true a missing Redis throws instead. */
export const redisAvailable = (await requireService('Redis', REDIS_URL)).available;

/**
 * Whether `redis-server` can be started for private servers (eviction,
 * resilience, restart tests). Under CI=true a missing binary throws.
 */
export const redisServerAvailable = (() => {
  const ok = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!ok) {
    const message = 'redis-server is not installed: install Redis 7 (apt-get install redis-server)';
    if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
    console.warn(`\n*** SKIPPING private redis-server tests: ${message} ***\n`);
  }
  return ok;
})();

/** A prefix no other test uses. */
export function randomPrefix(label = 't'): string {
  return `ergon-test:${label}:${randomUUID()}`;
}

/** Deletes every key of a prefix, by SCAN and DEL. */
export async function deletePrefix(url: string, prefix: string): Promise<number> {
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `\\{${prefix}\\}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await admin.del(...keys);
    } while (cursor !== '0');
  } finally {
    admin.disconnect();
  }
  return deleted;
}

/** Every key of a prefix. */
export async function keysOf(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `\\{${prefix}\\}:*`, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

/** Opens a store on a fresh random prefix of the shared Redis. */
export function openStore(options: { prefix?: string; url?: string } = {}): Promise<RedisExecutionLog> {
  return RedisExecutionLog.open({ url: REDIS_URL, prefix: randomPrefix(), logger: noopLogger, ...options });
}

/** Closes the store and deletes its keys. */
export async function disposeStore(store: RedisExecutionLog, url = REDIS_URL): Promise<void> {
  await store.close();
  await deletePrefix(url, store.prefix);
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
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

/** A `redis-server` of this test file's own, in a temp dir. */
export class PrivateRedis {
  readonly port: number;
  readonly dir: string;
  readonly args: readonly string[];
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string, args: readonly string[]) {
    this.port = port;
    this.dir = dir;
    this.args = args;
  }

  /** Starts a server with these extra arguments (`--save '' --appendonly no` unless overridden). */
  static async start(extra: readonly string[] = []): Promise<PrivateRedis> {
    const dir = await mkdtemp(join(tmpdir(), 'ergon-redis-'));
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
      ...extra,
    ];
    const server = new PrivateRedis(port, dir, args);
    await server.spawn();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts) the process and waits until it answers PING. */
  async spawn(): Promise<void> {
    const child = spawn('redis-server', this.args, { stdio: 'ignore' });
    this.#process = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      const probe = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => {});
      try {
        await probe.connect();
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // not up yet
      } finally {
        probe.disconnect();
      }
      if (Date.now() > deadline) throw new Error('redis-server did not start within 10 s');
      await delay(20);
    }
  }

  /** Kills the process with SIGKILL (no shutdown save) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Kills the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A logger that keeps what it was told, for assertions. */
export function captureLogger(): Logger & { readonly lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const logger = {
    lines,
    debug: (message: string) => void lines.push({ level: 'debug', message }),
    info: (message: string) => void lines.push({ level: 'info', message }),
    warn: (message: string) => void lines.push({ level: 'warn', message }),
    error: (message: string) => void lines.push({ level: 'error', message }),
    child: () => logger,
  };
  return logger;
}
