/**
 * A `mosquitto` of a test's own (a free port, a config and a persistence
 * directory in a temporary directory), for tests that kill and restart the
 * broker or need other limits than the shared one on 1883. Imported from
 * `@ergon/testing` or, without vitest, `@ergon/testing/mosquitto`.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateServer, probe, requireBinary } from './private-server.js';
import { freePort } from './redis-server.js';

/**
 * Whether `mosquitto` can be started. Under `CI=true` a missing binary
 * throws (the suite fails); elsewhere it warns loudly and returns false.
 */
export function requireMosquitto(): boolean {
  return requireBinary(
    'mosquitto',
    () => spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error === undefined,
    'apt-get install mosquitto',
  );
}

/** A private `mosquitto`; `spawn` restarts it on the same port and persistence. */
export class PrivateMosquitto extends PrivateServer {
  /**
   * Starts a broker with these extra config lines (persistence on, every
   * message queued: no `max_queued_messages` limit); resolves once it listens.
   */
  static async start(extra: readonly string[] = []): Promise<PrivateMosquitto> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'ergon-mosquitto-'));
    const config = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 1',
      'max_queued_messages 0',
      ...extra,
    ];
    writeFileSync(join(dir, 'mosquitto.conf'), `${config.join('\n')}\n`);
    // Started as root, mosquitto drops to its own user, which must be able to write its state here.
    chmodSync(dir, 0o777);
    const broker = new PrivateMosquitto(
      { command: 'mosquitto', args: (_port, at) => ['-c', join(at, 'mosquitto.conf')], ready: accepts },
      port,
      dir,
    );
    await broker.spawn();
    return broker;
  }

  /** `mqtt://127.0.0.1:<port>`. */
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }
}

/** True once a TCP connection to `port` is accepted. */
function accepts(port: number): Promise<boolean> {
  return probe(port);
}
