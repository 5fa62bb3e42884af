/**
 * A `nats-server` of a test's own (JetStream on, its store in a temporary
 * directory, a free port), for tests that kill and restart the server:
 * never the shared one on 4222. Imported from `@ergon/testing` or, without
 * vitest, `@ergon/testing/nats-server`.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateServer, probe, requireBinary } from './private-server.js';
import { freePort } from './redis-server.js';

/**
 * Whether `nats-server` can be started. Under `CI=true` a missing binary
 * throws (the suite fails); elsewhere it warns loudly and returns false.
 */
export function requireNatsServer(): boolean {
  return requireBinary(
    'nats-server',
    () => spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0,
    'apt-get install nats-server',
  );
}

/** A private `nats-server` with JetStream; `spawn` restarts it on the same port and store. */
export class PrivateNatsServer extends PrivateServer {
  /** Starts a server; resolves once it sends its INFO line. */
  static async start(): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(
      {
        command: 'nats-server',
        args: (port, dir) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
        ready: sendsInfo,
      },
      await freePort(),
      mkdtempSync(join(tmpdir(), 'ergon-nats-')),
    );
    await server.spawn();
    return server;
  }

  /** `nats://127.0.0.1:<port>`. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
}

/** True once the server sends its INFO line. */
function sendsInfo(port: number): Promise<boolean> {
  return probe(port, { greeting: (text) => text.startsWith('INFO') });
}
