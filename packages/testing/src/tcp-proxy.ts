/**
 * A TCP proxy in the test process: the client under test connects through
 * it, and dropping its sockets cuts the connection as a network failure
 * would (for brokers without a command that closes one client: nats-server
 * 2.9, mosquitto). Imported from `@ergon/testing` or, without vitest,
 * `@ergon/testing/tcp-proxy`.
 *
 * @module
 */
import { createServer, type Server, Socket } from 'node:net';

/** Forwards every connection on a local port to a target; {@link drop} cuts them all. */
export class TcpProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  private constructor(target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      const upstream = new Socket();
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.#sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      upstream.connect(target.port, target.host);
      client.pipe(upstream).pipe(client);
    });
  }

  /** Listens on a free port of 127.0.0.1 and forwards every connection to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    const address = proxy.#server.address();
    proxy.#port = typeof address === 'object' && address ? address.port : 0;
    return proxy;
  }

  /** The port to connect to. */
  get port(): number {
    return this.#port;
  }

  /** Cuts every connection through the proxy; new ones are accepted again. */
  drop(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Stops listening and cuts everything. */
  async close(): Promise<void> {
    this.drop();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
