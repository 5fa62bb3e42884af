// Shared by the service-backed tests: the broker's url, queues unique per
// test, a broker-side admin (counts, peeks, raw publishes, deletes), and
// dropping a connection from the broker's side by its connection_name.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { requireService } from '@ergon/testing';
import { type ChannelModel, connect, type GetMessage, type Options } from 'amqplib';
import type { AmqpConnector } from '../src/index.js';

const run = promisify(execFile);

/** The broker of the tests (DESIGN §8). */
export const AMQP_URL = process.env.ERGON_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Whether RabbitMQ answers; under `CI=true` an unreachable broker fails the run instead. */
export const broker = await requireService('RabbitMQ', AMQP_URL);

/** A queue name no other test uses. */
export function uniqueQueue(label: string): string {
  return `ergon-test.${label}.${randomUUID().slice(0, 8)}`;
}

/** The broker seen from the side: what tests check and set up without a connector. */
export class Admin {
  #model: ChannelModel | undefined;

  async #connection(): Promise<ChannelModel> {
    if (!this.#model) {
      this.#model = await connect(AMQP_URL, { clientProperties: { connection_name: 'ergon-test:admin' } });
      this.#model.on('error', () => undefined);
      this.#model.on('close', () => {
        this.#model = undefined;
      });
    }
    return this.#model;
  }

  /** Runs `work` on a channel of its own (a failed check closes only that channel). */
  async channel<T>(work: (channel: Awaited<ReturnType<ChannelModel['createChannel']>>) => Promise<T>) {
    const channel = await (await this.#connection()).createChannel();
    channel.on('error', () => undefined);
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Messages ready in `queue`. */
  readyCount(queue: string): Promise<number> {
    return this.channel(async (channel) => (await channel.checkQueue(queue)).messageCount);
  }

  /** Every ready message of `queue`, put back afterwards. */
  peek(queue: string): Promise<GetMessage[]> {
    return this.channel(async (channel) => {
      const out: GetMessage[] = [];
      for (let m = await channel.get(queue); m !== false; m = await channel.get(queue)) out.push(m);
      return out;
    });
  }

  /** Publishes one message straight to `queue`, with confirms. */
  async publish(queue: string, content: Buffer, options: Options.Publish): Promise<void> {
    const channel = await (await this.#connection()).createConfirmChannel();
    try {
      channel.sendToQueue(queue, content, options);
      await channel.waitForConfirms();
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Deletes queues (missing ones too). */
  async deleteQueues(queues: readonly string[]): Promise<void> {
    for (const queue of queues) await this.channel((channel) => channel.deleteQueue(queue));
  }

  /** Closes the admin connection. */
  async close(): Promise<void> {
    await this.#model?.close().catch(() => undefined);
    this.#model = undefined;
  }
}

/**
 * Has the broker close every connection named `connectionName`
 * (`rabbitmqctl close_connection`), as a network failure or a broker
 * restart would. Only the test's own named connections are touched.
 */
export async function closeConnections(connectionName: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '-q']);
  const marker = `{"connection_name","${connectionName}"}`;
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(marker))
    .map((line) => line.split('\t')[0] as string);
  for (const pid of pids)
    await run('rabbitmqctl', ['close_connection', pid, 'ergon test: dropped on purpose']);
  return pids.length;
}

/** Drops `connector`'s connection and waits until the connector noticed (its generation moved on). */
export async function dropConnection(connector: AmqpConnector<unknown>): Promise<void> {
  const before = connector.service.generation;
  const closed = await closeConnections(connector.service.options.connectionName);
  if (closed === 0) throw new Error(`no connection named ${connector.service.options.connectionName}`);
  const deadline = Date.now() + 15_000;
  while (connector.service.generation === before) {
    if (Date.now() > deadline) throw new Error('the connector did not notice its dropped connection');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
