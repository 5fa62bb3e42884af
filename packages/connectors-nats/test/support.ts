// Shared by the service-backed tests: the server's url, names unique per
// test, and an admin connection (stream deletes, consumer counts, raw publishes).
import { randomUUID } from 'node:crypto';
import { requireService } from '@ergon/testing';
import {
  DiscardPolicy,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';

/** The server of the tests (DESIGN §8). */
export const NATS_URL = process.env.ERGON_NATS_URL ?? 'nats://127.0.0.1:4222';

/** Whether NATS answers; under `CI=true` an unreachable server fails the run instead. */
export const nats = await requireService('NATS', NATS_URL);

/** A stream and subject no other test uses. */
export function uniqueNames(label: string): { stream: string; subject: string } {
  const suffix = randomUUID().slice(0, 8);
  return { stream: `ERGON_TEST_${label.toUpperCase()}_${suffix}`, subject: `ergon-test.${label}.${suffix}` };
}

/** The server seen from the side, on a connection of its own. */
export class Admin {
  readonly url: string;
  #nc: Promise<{ nc: NatsConnection; jsm: JetStreamManager }> | undefined;

  constructor(url = NATS_URL) {
    this.url = url;
  }

  async #open() {
    this.#nc ??= connect({ servers: this.url, name: 'ergon-test:admin', maxReconnectAttempts: -1 }).then(
      async (nc) => ({ nc, jsm: await jetstreamManager(nc) }),
    );
    return this.#nc;
  }

  /** Messages of the stream's consumer not yet delivered. */
  async pending(stream: string, consumer = 'ergon'): Promise<number> {
    const { jsm } = await this.#open();
    return (await jsm.consumers.info(stream, consumer)).num_pending;
  }

  /** The consumer's counts. */
  async consumerInfo(stream: string, consumer = 'ergon') {
    const { jsm } = await this.#open();
    return jsm.consumers.info(stream, consumer);
  }

  /** Publishes raw bytes on `subject` and waits for the stream's ack. */
  async publish(subject: string, data: string, headers?: MsgHdrs): Promise<void> {
    const { nc } = await this.#open();
    await jetstream(nc).publish(subject, data, headers ? { headers } : {});
  }

  /** Creates a stream as given (for tests that need one the service would not declare). */
  async createStream(config: {
    name: string;
    subjects: string[];
    max_msgs?: number;
    discard?: 'new' | 'old';
  }) {
    const { jsm } = await this.#open();
    await jsm.streams.add({
      ...config,
      storage: StorageType.Memory,
      discard: config.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
    });
  }

  /** Deletes streams (missing ones too). */
  async deleteStreams(streams: readonly string[]): Promise<void> {
    const { jsm } = await this.#open();
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
  }

  async close(): Promise<void> {
    const opened = await this.#nc?.catch(() => undefined);
    this.#nc = undefined;
    await opened?.nc.close();
  }
}

/** Every message of `stream`, oldest first (for dead-letter streams). */
export async function storedMessages(admin: Admin, stream: string) {
  const nc = await connect({ servers: admin.url, name: 'ergon-test:reader' });
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(stream);
    const out = [];
    for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
      const stored = await jsm.streams.getMessage(stream, { seq });
      if (stored) out.push(stored);
    }
    return out;
  } finally {
    await nc.close();
  }
}
