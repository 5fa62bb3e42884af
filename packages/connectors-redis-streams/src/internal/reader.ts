/**
 * Blocking reads on a connection of their own: `XREADGROUP … BLOCK` waits in
 * Redis for new entries (no polling), and an abort ends the wait at once
 * with `CLIENT UNBLOCK` sent over the command connection, so the reading
 * connection survives and nothing is lost.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import type { RedisStreamsService } from '../service.js';
import { type BufferCommands, type Delivery, parseReadReply, withBufferCommands } from './entries.js';

/** What one read asks for. */
export interface ReadRequest {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly count: number;
  /** 0: do not block. */
  readonly blockMs: number;
}

/** How long an abort keeps trying to unblock a read that was not blocked yet (queued, in transit). */
const UNBLOCK_PATIENCE_MS = 1000;

/** A blocking connection and its reads. */
export class BlockingReader {
  readonly #service: RedisStreamsService;
  readonly #client: Redis & BufferCommands;
  #clientId: string | undefined;

  private constructor(service: RedisStreamsService, client: Redis) {
    this.#service = service;
    this.#client = withBufferCommands(client);
  }

  /**
   * Opens a reading connection. `onReconnect` runs each time it connects
   * again after a drop: a read in flight then may have delivered entries
   * whose reply was lost, so the caller looks for them.
   */
  static async open(
    service: RedisStreamsService,
    role: string,
    onReconnect: () => void,
  ): Promise<BlockingReader> {
    const client = await service.openBlockingClient(role);
    const reader = new BlockingReader(service, client);
    // 'ready' is emitted before ioredis resends what was queued, so CLIENT ID
    // answers before any resent blocking read can hold the connection.
    client.on('ready', () => {
      reader.#clientId = undefined;
      reader.#identify();
      onReconnect();
    });
    reader.#identify();
    return reader;
  }

  /**
   * Reads new entries (`>`), blocking up to `blockMs`. An abort ends the
   * wait; entries that arrived anyway are returned.
   *
   * The reply is read as bytes: the connector decodes only what it uses
   * (the entry id, the id field's value, the payload; names are compared
   * as bytes) and checks that each is UTF-8. Read as text, ioredis decoded
   * every name and value and copied every array of the reply first, which
   * cost more than the whole bytes path.
   */
  async read(request: ReadRequest, signal?: AbortSignal): Promise<Delivery[]> {
    const { stream, group, consumer, count, blockMs } = request;
    const block = blockMs > 0 ? ['BLOCK', blockMs] : [];
    const command = this.#client.xreadgroupBuffer(
      ...['GROUP', group, consumer, 'COUNT', count, ...block, 'STREAMS', stream, '>'],
    );
    if (!signal || blockMs === 0) return parseReadReply(await command);
    let done = false;
    const onAbort = () => void this.#unblock(() => done);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    try {
      return parseReadReply(await command);
    } finally {
      done = true;
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** True while the connection is up (ready for commands). */
  get up(): boolean {
    return this.#client.status === 'ready';
  }

  /**
   * Reads up to `count` new entries without blocking; `acks`, if any, are
   * acked by an XACK sent in the same write, just before the read (one
   * write, one wake-up of Redis and one reply to read for both, where two
   * commands each cost all three). Never throws: failures are the promises'.
   */
  readNow(
    request: Omit<ReadRequest, 'blockMs'>,
    acks: readonly string[] | undefined,
  ): { acked: Promise<unknown> | undefined; read: Promise<Delivery[]> } {
    const { stream, group, consumer, count } = request;
    const client = this.#client;
    // Corked, the two commands leave in one write when uncorked.
    const socket = client.status === 'ready' ? client.stream : undefined;
    socket?.cork();
    let acked: Promise<unknown> | undefined;
    let command: Promise<unknown>;
    try {
      if (acks && acks.length > 0) acked = attempt(() => client.xack(stream, group, ...acks));
      command = attempt(() =>
        client.xreadgroupBuffer(...['GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>']),
      );
    } finally {
      socket?.uncork();
    }
    return { acked, read: command.then(parseReadReply) };
  }

  /** Closes the connection (a blocked read is cut short). */
  close(): void {
    this.#service.closeBlockingClient(this.#client);
  }

  #identify(): void {
    this.#client.client('ID').then(
      (id) => {
        this.#clientId = String(id);
      },
      () => undefined,
    );
  }

  /**
   * Sends CLIENT UNBLOCK until the read ends. A reply of 0 means the read is
   * not blocked in Redis (yet): still queued, in transit, or just answered.
   */
  async #unblock(finished: () => boolean): Promise<void> {
    const deadline = Date.now() + UNBLOCK_PATIENCE_MS;
    while (!finished() && Date.now() < deadline) {
      const id = this.#clientId;
      if (id !== undefined) {
        const unblocked = await this.#service.client.client('UNBLOCK', id).catch(() => 0);
        if (Number(unblocked) === 1) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** `call()`, a synchronous throw as a rejection. */
function attempt<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call();
  } catch (error) {
    return Promise.reject(error);
  }
}
