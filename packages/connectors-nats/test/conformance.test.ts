// The connector conformance suite of @ergon/testing, unchanged, against the
// NATS on 4222 (ERGON_NATS_URL): each test on a stream of its own, deleted
// afterwards. The main connector goes through a TCP proxy that the harness
// cuts to drop its connection.
import { fileURLToPath } from 'node:url';
import {
  type ConformancePayload,
  type ConnectorHarness,
  type DeadLetterRecord,
  describeConnectorConformance,
  type PoisonKind,
  TcpProxy,
} from '@ergon/testing';
import { headers } from '@nats-io/transport-node';
import { afterAll, describe } from 'vitest';
import {
  type CreateNatsConnectorOptions,
  createNatsConnector,
  type NatsConnector,
  readDeadLetter,
} from '../src/index.js';
import { Admin, NATS_URL, nats, storedMessages, uniqueNames } from './support.js';

type Connector = NatsConnector<ConformancePayload>;

const MAX_IN_FLIGHT = 8;
const MAX_BYTES = 64 * 1024;
const CHILD = fileURLToPath(new URL('./fixtures/conformance-child.mjs', import.meta.url));
const admin = new Admin();
afterAll(() => admin.close());

interface NatsHarness extends ConnectorHarness<Connector> {
  readonly streams: string[];
  readonly proxy: TcpProxy;
}

async function harness(): Promise<NatsHarness> {
  const { stream, subject } = uniqueNames('conformance');
  const { hostname, port } = new URL(NATS_URL);
  const proxy = await TcpProxy.start({ host: hostname, port: Number(port) });
  let made = 0;
  const options = (label: string): CreateNatsConnectorOptions => ({
    url: NATS_URL,
    stream,
    subject,
    maxInFlight: MAX_IN_FLIGHT,
    fetchWait: '200ms',
    ackWait: '2s',
    maxMessageBytes: MAX_BYTES,
    // Messages must carry Nats-Msg-Id: one without is refused (capability messagesWithoutId).
    requireId: true,
    storage: 'memory',
    connectionName: `ergon-test:${stream}:${label}:${made++}`,
  });
  const refusing = uniqueNames('refusing');
  const publishRaw = async (kind: PoisonKind) => {
    const h = headers();
    if (kind !== 'missing-id') h.set('Nats-Msg-Id', `raw-${kind}-${made++}`);
    const data =
      kind === 'undecodable'
        ? '{not json'
        : JSON.stringify({ n: 99, blob: kind === 'too-large' ? 'x'.repeat(MAX_BYTES) : '' });
    await admin.publish(subject, data, h);
  };
  return {
    streams: [stream, `${stream}_DEAD_LETTER`, refusing.stream, `${refusing.stream}_DEAD_LETTER`],
    proxy,
    connector: createNatsConnector<ConformancePayload>({
      ...options('main'),
      url: `nats://127.0.0.1:${proxy.port}`,
      reconnectWait: '100ms',
    }),
    createConsumer: () => createNatsConnector<ConformancePayload>(options('consumer')),
    maxInFlight: MAX_IN_FLIGHT,
    readyCount: () => admin.pending(stream),
    readDeadLetters: async () =>
      (await storedMessages(admin, `${stream}_DEAD_LETTER`)).map((stored): DeadLetterRecord => {
        const letter = readDeadLetter(stored);
        return {
          ...(letter.id === undefined ? {} : { id: letter.id }),
          ...('payload' in letter ? { payload: letter.payload } : {}),
          metadata: letter.metadata,
          reason: letter.reason,
        };
      }),
    health: (connector) => connector.service.health(),
    createRefusingConnector: async () => {
      // A full stream that discards new messages: the server refuses the publish (10077).
      await admin.createStream({
        name: refusing.stream,
        subjects: [refusing.subject],
        max_msgs: 1,
        discard: 'new',
      });
      await admin.publish(refusing.subject, '{"n":-1}');
      return createNatsConnector<ConformancePayload>({ ...options('refusing'), ...refusing });
    },
    publishRaw,
    dropConnection: async (connector) => {
      const before = connector.service.disconnects;
      proxy.drop();
      const deadline = Date.now() + 15_000;
      while (connector.service.disconnects === before) {
        if (Date.now() > deadline) throw new Error('the connector did not notice its dropped connection');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    consumerProcess: { script: CHILD, args: [JSON.stringify(options('child'))] },
  };
}

describe.skipIf(!nats.available)('NatsConnector against NATS JetStream', () => {
  describeConnectorConformance<Connector>({
    name: 'nats',
    create: harness,
    teardown: async (created) => {
      const h = created as NatsHarness;
      await h.proxy.close();
      await admin.deleteStreams(h.streams);
    },
    capabilities: {
      findTransaction: {
        unsupported:
          'JetStream finds a stored message by sequence or subject, not by its Nats-Msg-Id header (a scan of the stream is no lookup)',
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
