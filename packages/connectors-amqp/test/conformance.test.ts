// The connector conformance suite of @ergon/testing, against the real broker:
// each test on queues of its own, deleted afterwards.
import { fileURLToPath } from 'node:url';
import {
  type ConformancePayload,
  type ConnectorHarness,
  type DeadLetterRecord,
  describeConnectorConformance,
} from '@ergon/testing';
import { afterAll, describe } from 'vitest';
import { type AmqpConnector, createAmqpConnector, readDeadLetter } from '../src/index.js';
import { Admin, AMQP_URL, broker, dropConnection, uniqueQueue } from './support.js';

type Connector = AmqpConnector<ConformancePayload>;

const PREFETCH = 5;
const MAX_BYTES = 64 * 1024;
const CHILD = fileURLToPath(new URL('./fixtures/conformance-child.mjs', import.meta.url));
const admin = new Admin();
const queuesOf = new WeakMap<object, string[]>();
afterAll(() => admin.close());

function harness(): ConnectorHarness<Connector> {
  const queue = uniqueQueue('conformance');
  const refusing = `${queue}.refusing`;
  let made = 0;
  const options = (label: string) => ({
    url: AMQP_URL,
    queue,
    prefetch: PREFETCH,
    fetchWait: '200ms',
    maxMessageBytes: MAX_BYTES,
    connectionName: `ergon-test:${queue}:${label}:${made++}`,
    reconnect: { initialDelay: '50ms', maxDelay: '1s' },
  });
  const created: Harness = {
    connector: createAmqpConnector<ConformancePayload>(options('main')),
    createConsumer: () => createAmqpConnector<ConformancePayload>(options('consumer')),
    maxInFlight: PREFETCH,
    readyCount: () => admin.readyCount(queue),
    readDeadLetters: async () =>
      (await admin.peek(`${queue}.dead-letter`)).map((message): DeadLetterRecord => {
        const letter = readDeadLetter(message);
        return {
          ...(letter.id === undefined ? {} : { id: letter.id }),
          ...('payload' in letter ? { payload: letter.payload } : {}),
          metadata: letter.metadata,
          reason: letter.reason,
        };
      }),
    health: (connector) => connector.service.health(),
    createRefusingConnector: () =>
      createAmqpConnector<ConformancePayload>({
        ...options('refusing'),
        queue: refusing,
        queueArguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
      }),
    publishRaw: async (kind) => {
      const id = `raw-${kind}-${made++}`;
      if (kind === 'undecodable') {
        await admin.publish(queue, Buffer.from('{not json'), {
          messageId: id,
          contentType: 'application/json',
        });
      } else if (kind === 'missing-id') {
        await admin.publish(queue, Buffer.from('{"n":99}'), { contentType: 'application/json' });
      } else {
        const body = JSON.stringify({ n: 99, blob: 'x'.repeat(MAX_BYTES) });
        await admin.publish(queue, Buffer.from(body), { messageId: id, contentType: 'application/json' });
      }
    },
    dropConnection: (connector) => dropConnection(connector as AmqpConnector<unknown>),
    consumerProcess: { script: CHILD, args: [JSON.stringify(options('child'))] },
  };
  queuesOf.set(created, [queue, `${queue}.dead-letter`, refusing, `${refusing}.dead-letter`]);
  return created;
}

type Harness = ConnectorHarness<Connector>;

describe.skipIf(!broker.available)('AmqpConnector against RabbitMQ', () => {
  describeConnectorConformance<Connector>({
    name: 'amqp',
    create: harness,
    teardown: (created) => admin.deleteQueues(queuesOf.get(created) ?? []),
    capabilities: {
      findTransaction: {
        unsupported: 'AMQP has no read of a queued message by id without taking it off the queue',
      },
      refusedPublish: true,
      undecodableMessages: true,
      messagesWithoutId: true,
      oversizedMessages: true,
      connectionDrop: true,
      processCrash: true,
    },
  });
});
