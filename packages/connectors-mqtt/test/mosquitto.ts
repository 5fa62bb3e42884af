// A mosquitto of a test's own (a free port, a config and a persistence
// directory in a temp dir) for tests that kill and restart the broker or
// need other limits than the shared one on 1883. Started from the
// `mosquitto` binary on PATH; killed after.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@ergon/testing';

/** Whether `mosquitto` can be started; under `CI=true` a missing binary throws. */
export function requireMosquitto(): boolean {
  const ok = spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error === undefined;
  if (!ok) {
    const message = 'mosquitto is not installed: install it (apt-get install mosquitto)';
    if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
    console.warn(`\n*** SKIPPING private mosquitto tests: ${message} ***\n`);
  }
  return ok;
}

const live = new Set<PrivateMosquitto>();
process.once('exit', () => {
  for (const broker of live) broker.killNow();
});

export class PrivateMosquitto {
  readonly port: number;
  readonly dir: string;
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  /**
   * Starts a broker with these extra config lines (persistence on, every
   * message queued: no `max_queued_messages` limit); resolves once it listens.
   */
  static async start(extra: readonly string[] = []): Promise<PrivateMosquitto> {
    const broker = new PrivateMosquitto(await freePort(), mkdtempSync(join(tmpdir(), 'ergon-mosquitto-')));
    const config = [
      `listener ${broker.port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${broker.dir}/`,
      'autosave_interval 1',
      'max_queued_messages 0',
      ...extra,
    ];
    writeFileSync(join(broker.dir, 'mosquitto.conf'), `${config.join('\n')}\n`);
    // Started as root, mosquitto drops to its own user, which must be able to write its state here.
    chmodSync(broker.dir, 0o777);
    live.add(broker);
    await broker.spawn();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts, same port and persistence) the process. */
  async spawn(): Promise<void> {
    const child = spawn('mosquitto', ['-c', join(this.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    this.#process = child;
    const deadline = Date.now() + 10_000;
    while (!(await listening(this.port))) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('mosquitto did not start within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the process: SIGTERM saves the persistence file, SIGKILL does not. */
  async kill(signal: 'SIGTERM' | 'SIGKILL' = 'SIGKILL'): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  killNow(): void {
    this.#process?.kill('SIGKILL');
  }

  /** Kills the broker and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}
