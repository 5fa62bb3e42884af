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
import { type Delivery, parseEntries, parseReadReply } from './entries.js';

/** What one read asks for. */
export interface ReadRequest {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly count: number;
  /** 0: do not block. */
  readonly blockMs: number;
}

/** XREADGROUP with text replies, its arguments as a list. */
interface TextRead {
  xreadgroup(...args: (string | number)[]): Promise<unknown>;
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

  /**
   * Reads new entries (`>`), blocking up to `blockMs`. An abort ends the
   * wait; entries that arrived anyway are returned.
   *
   * The reply is read as text, which costs about half of reading it as
   * bytes. Decoding turns every malformed UTF-8 sequence into U+FFFD, so
   * text without one was valid; the few entries with one (malformed, or a
   * real U+FFFD) are read again as bytes, so that the connector can tell.
   */
  async read(request: ReadRequest, signal?: AbortSignal): Promise<Delivery[]> {
    const { stream, group, consumer, count, blockMs } = request;
    const block = blockMs > 0 ? ['BLOCK', blockMs] : [];
    // ioredis types XREADGROUP as overloads of fixed length; the call is the same.
    const command = (this.#client as unknown as TextRead).xreadgroup(
      ...['GROUP', group, consumer, 'COUNT', count, ...block, 'STREAMS', stream, '>'],
    );
    if (!signal || blockMs === 0) return this.#asBytesWhereNeeded(stream, parseReadReply(await command));
    let done = false;
    const onAbort = () => void this.#unblock(() => done);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    let entries: Delivery[];
    try {
      entries = parseReadReply(await command);
    } finally {
      done = true;
      signal.removeEventListener('abort', onAbort);
    }
    return this.#asBytesWhereNeeded(stream, entries);
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
        (client as unknown as TextRead).xreadgroup(
          ...['GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>'],
        ),
      );
    } finally {
      socket?.uncork();
    }
    const read = command.then((reply) => this.#asBytesWhereNeeded(stream, parseReadReply(reply)));
    return { acked, read };
  }

  /**
   * Entries whose text holds U+FFFD, read again as bytes (they are pending
   * here, so still in the stream unless trimmed meanwhile; then the text is
   * kept). On the reading connection: nothing else uses it between reads.
   */
  #asBytesWhereNeeded(stream: string, entries: Delivery[]): Promise<Delivery[]> | Delivery[] {
    // Most replies hold no U+FFFD: no async step for them.
    let first = 0;
    while (first < entries.length && !holdsReplacement((entries[first] as Delivery).fields)) first++;
    return first === entries.length ? entries : this.#readAgainAsBytes(stream, entries, first);
  }

  async #readAgainAsBytes(stream: string, entries: Delivery[], from: number): Promise<Delivery[]> {
    for (let i = from; i < entries.length; i++) {
      const entry = entries[i] as Delivery;
      if (!holdsReplacement(entry.fields)) continue;
      const [bytes] = parseEntries(await this.#client.xrangeBuffer(stream, entry.id, entry.id));
      if (bytes?.fields) entries[i] = { id: bytes.id, fields: bytes.fields, deliveries: entry.deliveries };
    }
    return entries;
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

/** True when a field read as text holds U+FFFD (a plain loop: no closure per entry). */
function holdsReplacement(fields: readonly (Buffer | string)[] | null): boolean {
  if (!fields) return false;
  for (const field of fields) if ((field as string).includes('\uFFFD')) return true;
  return false;
}
