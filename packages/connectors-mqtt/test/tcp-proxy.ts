// A TCP proxy in the test process: the connector under test connects
// through it, and dropping its sockets cuts the connection as a network
// failure would (the broker has no command that closes one client).
import { createServer, type Server, Socket } from 'node:net';

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
