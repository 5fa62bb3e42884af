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
import { parseReadReply, type RawEntry, withBufferCommands } from './entries.js';

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
  readonly #client: Redis;
  #clientId: string | undefined;

  private constructor(service: RedisStreamsService, client: Redis) {
    this.#service = service;
    this.#client = client;
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

  /** Reads new entries (`>`), blocking up to `blockMs`. An abort ends the wait; entries that arrived anyway are returned. */
  async read(request: ReadRequest, signal?: AbortSignal): Promise<RawEntry[]> {
    const { stream, group, consumer, count, blockMs } = request;
    const block = blockMs > 0 ? ['BLOCK', blockMs] : [];
    const command = withBufferCommands(this.#client).xreadgroupBuffer(
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
