/**
 * What every private server of a test has in common (`PrivateNatsServer`,
 * `PrivateMosquitto`): a process started from a binary on PATH, on a
 * free port, with a temporary directory of its own; restartable on the same
 * port and directory; killed when the test process exits, whatever happened.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Socket } from 'node:net';

const live = new Set<PrivateServer>();
process.once('exit', () => {
  for (const server of live) server.killNow();
});

/** How one kind of server is started and recognised as ready. */
export interface ServerKind {
  /** Its binary (on PATH), for messages too. */
  readonly command: string;
  /** Its arguments, for a port and a directory. */
  readonly args: (port: number, dir: string) => readonly string[];
  /** True once the server on `port` serves (probed every 20 ms, up to 10 s). */
  readonly ready: (port: number) => Promise<boolean>;
}

/** A server process of a test's own. */
export class PrivateServer {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Its working directory (a fresh temporary one, removed by {@link stop}). */
  readonly dir: string;
  readonly #kind: ServerKind;
  #process: ChildProcess | undefined;

  /** Registers the server (killed at exit); call {@link spawn} to start it. */
  constructor(kind: ServerKind, port: number, dir: string) {
    this.#kind = kind;
    this.port = port;
    this.dir = dir;
    live.add(this);
  }

  /** Starts (or restarts, same port and directory) the process; resolves once it serves. */
  async spawn(): Promise<void> {
    const { command, args, ready } = this.#kind;
    const child = spawn(command, args(this.port, this.dir), { stdio: 'ignore' });
    this.#process = child;
    const deadline = Date.now() + 10_000;
    while (!(await ready(this.port))) {
      if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`${command} did not start within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the process with `signal` (default SIGKILL); resolves when it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
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

/** Whether `command` can be run; under `CI=true` a missing binary throws, elsewhere it warns and returns false. */
export function requireBinary(
  command: string,
  check: () => boolean,
  install: string,
  what = `private ${command}`,
): boolean {
  const ok = check();
  if (!ok) {
    const message = `${command} is not installed: install it (${install})`;
    if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
    console.warn(`\n*** SKIPPING ${what} tests: ${message} ***\n`);
  }
  return ok;
}

/**
 * True when a TCP connection to `port` (127.0.0.1) is accepted and, when `greeting` is
 * given, the first data the server sends (after `send`, if any) passes it.
 */
export function probe(
  port: number,
  options: { readonly send?: string; readonly greeting?: (text: string) => boolean } = {},
): Promise<boolean> {
  const { send, greeting } = options;
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    if (greeting) socket.once('data', (data) => done(greeting(data.toString())));
    socket.connect(port, '127.0.0.1', () => {
      if (send !== undefined) socket.write(send);
      if (!greeting) done(true);
    });
  });
}
