// The connector suite run against a small in-memory broker, so the suite's
// own logic (and its visible skips) is checked without a real broker.
import {
  type Connector,
  createTransaction,
  defaultCodec,
  ErgonError,
  ErrorCode,
  type FetchOptions,
  type HealthStatus,
  type NackOptions,
  type Transaction,
} from '@ergon/core';
import type { ConformancePayload, ConnectorHarness, DeadLetterRecord } from '../index.js';
import { describeConnectorConformance } from './index.js';

interface Message {
  readonly id: string | undefined;
  readonly body: string;
  readonly headers: Record<string, string>;
}

const MAX_BYTES = 4096;

class MemoryBroker {
  readonly ready: Message[] = [];
  readonly dead: DeadLetterRecord[] = [];
  readonly #waiters = new Set<() => void>();
  push(message: Message): void {
    this.ready.push(message);
    for (const wake of this.#waiters) wake();
  }
  waitForMessage(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      signal?.addEventListener('abort', done);
    });
  }
}

type Payload = ConformancePayload;

class MemoryConnector implements Connector<Payload, Payload> {
  readonly name = 'memory';
  readonly #broker: MemoryBroker;
  readonly #maxInFlight: number;
  readonly #held = new Map<string, Message>();
  #running = false;
  #stopping = new AbortController();
  constructor(broker: MemoryBroker, maxInFlight: number) {
    this.#broker = broker;
    this.#maxInFlight = maxInFlight;
  }
  async start(): Promise<void> {
    if (!this.#running) this.#stopping = new AbortController();
    this.#running = true;
  }
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stopping.abort();
    for (const message of this.#held.values()) this.#broker.push(message);
    this.#held.clear();
  }
  async health(): Promise<HealthStatus> {
    return this.#running ? { healthy: true } : { healthy: false, detail: 'not started' };
  }
  async fetchTransactions(options: FetchOptions): Promise<Transaction<Payload>[]> {
    const signal = AbortSignal.any([this.#stopping.signal, ...(options.signal ? [options.signal] : [])]);
    if (this.#broker.ready.length === 0) await this.#broker.waitForMessage(200, signal);
    const out: Transaction<Payload>[] = [];
    while (
      this.#running &&
      !signal.aborted &&
      out.length < options.limit &&
      this.#held.size < this.#maxInFlight
    ) {
      const message = this.#broker.ready.shift();
      if (!message) break;
      try {
        out.push(this.#toTransaction(message));
        this.#held.set(message.id as string, message);
      } catch (error) {
        const { code, message: text } = error as ErgonError;
        this.#broker.dead.push({ metadata: message.headers, reason: { code, message: text } });
      }
    }
    return out;
  }
  async dispatchTransactions(txs: readonly Transaction<Payload>[]): Promise<void> {
    for (const tx of txs) {
      const body = defaultCodec.encode(tx.payload);
      this.#broker.push({ id: tx.id, body, headers: { ...tx.metadata } });
    }
  }
  async ack(tx: Transaction<Payload>): Promise<void> {
    this.#take(tx);
  }
  async nack(tx: Transaction<Payload>, options: NackOptions): Promise<void> {
    const message = this.#take(tx);
    if (options.requeue) return this.#broker.push(message);
    const { code, message: text } = options.reason as ErgonError;
    const payload = defaultCodec.decode(message.body);
    this.#broker.dead.push({
      id: tx.id,
      payload,
      metadata: message.headers,
      reason: { code, message: text },
    });
  }
  #take(tx: Transaction<Payload>): Message {
    const message = this.#held.get(tx.id);
    if (!message) throw new ErgonError(ErrorCode.CONNECTOR_ERROR, `${tx.id} is not held here`);
    this.#held.delete(tx.id);
    return message;
  }
  #toTransaction(message: Message): Transaction<Payload> {
    if (message.body.length > MAX_BYTES) {
      throw new ErgonError(ErrorCode.CODEC_TOO_LARGE, `message is over the ${MAX_BYTES}-byte limit`);
    }
    const payload = defaultCodec.decode<Payload>(message.body);
    return createTransaction({ id: message.id as string, payload, metadata: message.headers });
  }
}

function harness(): ConnectorHarness<MemoryConnector> {
  const broker = new MemoryBroker();
  return {
    connector: new MemoryConnector(broker, 5),
    createConsumer: () => new MemoryConnector(broker, 5),
    maxInFlight: 5,
    readyCount: async () => broker.ready.length,
    readDeadLetters: async () => [...broker.dead],
    health: (connector) => connector.health(),
    publishRaw: async (kind) => {
      if (kind === 'undecodable') broker.push({ id: 'raw', body: '{not json', headers: {} });
      if (kind === 'too-large') {
        broker.push({ id: 'big', body: defaultCodec.encode('x'.repeat(MAX_BYTES)), headers: {} });
      }
    },
  };
}

describeConnectorConformance({
  name: 'in-memory connector of the suite’s own test',
  create: harness,
  capabilities: {
    findTransaction: { unsupported: 'this test broker keeps no index by id' },
    refusedPublish: { unsupported: 'this test broker accepts every publish' },
    undecodableMessages: true,
    messagesWithoutId: { unsupported: 'this test broker always has the dispatched id' },
    oversizedMessages: true,
    connectionDrop: { unsupported: 'no connection to drop in memory' },
    processCrash: { unsupported: 'no broker shared between processes' },
  },
  // A named skip of a case in a nested group: applied, not reported unknown.
  skip: [
    {
      reason: 'shows that a named skip applies (the case passes here)',
      tests: ['a nack with requeue delivers the same transaction again: same id, payload and metadata'],
    },
  ],
});
