// A nats-server of a test's own (JetStream on, a store in a temp dir, a
// free port) for tests that kill and restart the server: never the shared
// one on 4222. Started from the `nats-server` binary on PATH.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@ergon/testing';

/** Whether `nats-server` can be started; under `CI=true` a missing binary throws. */
export function requireNatsServer(): boolean {
  const ok = spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!ok) {
    const message = 'nats-server is not installed: install it (apt-get install nats-server)';
    if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
    console.warn(`\n*** SKIPPING private nats-server tests: ${message} ***\n`);
  }
  return ok;
}

const live = new Set<PrivateNatsServer>();
process.once('exit', () => {
  for (const server of live) server.killNow();
});

export class PrivateNatsServer {
  readonly port: number;
  readonly dir: string;
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  /** Starts a server; resolves once it accepts connections. */
  static async start(): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(await freePort(), mkdtempSync(join(tmpdir(), 'ergon-nats-')));
    live.add(server);
    await server.spawn();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts, same port and store) the process. */
  async spawn(): Promise<void> {
    const args = ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.dir];
    const child = spawn('nats-server', args, { stdio: 'ignore' });
    this.#process = child;
    const deadline = Date.now() + 10_000;
    while (!(await listening(this.port))) {
      if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('nats-server did not start within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** SIGKILL; resolves when the process is gone. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  killNow(): void {
    this.#process?.kill('SIGKILL');
  }

  /** Kills the server and removes its store. */
  async stop(): Promise<void> {
    await this.kill();
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True once the server sends its INFO line. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('INFO')));
    socket.connect(port, '127.0.0.1');
  });
}
