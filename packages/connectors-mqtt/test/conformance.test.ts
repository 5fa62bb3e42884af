// The connector conformance suite of @ergon/testing, unchanged, against the
// Mosquitto on 1883 (ERGON_MQTT_URL): each test on a topic of its own, its
// sessions ended afterwards. The main connector goes through a TCP proxy
// that the harness cuts to drop its connection.
//
// In MQTT a consumer is a session: a message is assigned to one session of
// the shared subscription when it is published, and what a session holds
// unacked is sent again only to a client with the same id. So a consumer
// made after the main connector stopped takes over its session (its client
// id), as a restarted process would; one made while it runs is a new member
// of the group. What MQTT cannot do is skipped below, each with the reason.
import {
  type ConformancePayload,
  type ConnectorHarness,
  type DeadLetterRecord,
  describeConnectorConformance,
  type PoisonKind,
  TcpProxy,
} from '@ergon/testing';
import { describe } from 'vitest';
import { type CreateMqttConnectorOptions, createMqttConnector, type MqttConnector } from '../src/index.js';
import { DeadLetterCollector, endSessions, MQTT_URL, mosquitto, publishRaw, uniqueTopic } from './support.js';

type Connector = MqttConnector<ConformancePayload>;

const MAX_IN_FLIGHT = 8;
const MAX_BYTES = 64 * 1024;

interface MqttHarness extends ConnectorHarness<Connector> {
  readonly proxy: TcpProxy;
  readonly collector: DeadLetterCollector;
  readonly clientIds: Set<string>;
}

async function harness(): Promise<MqttHarness> {
  const { topic, prefix } = uniqueTopic('conformance');
  const { hostname, port } = new URL(MQTT_URL);
  const proxy = await TcpProxy.start({ host: hostname, port: Number(port) });
  const collector = await DeadLetterCollector.start(MQTT_URL, `${topic}/dead-letter`);
  const clientIds = new Set<string>();
  let made = 0;
  const options = (clientId: string): CreateMqttConnectorOptions => {
    clientIds.add(clientId);
    return {
      url: MQTT_URL,
      topic,
      group: 'conformance',
      clientId,
      receiveMaximum: MAX_IN_FLIGHT,
      fetchWait: '200ms',
      maxMessageBytes: MAX_BYTES,
      sessionExpiry: '5m',
      reconnectPeriod: '100ms',
    };
  };
  const mainId = `${prefix}-main`;
  const main = createMqttConnector<ConformancePayload>({
    ...options(mainId),
    url: `mqtt://127.0.0.1:${proxy.port}`,
  });
  const publish = (kind: PoisonKind) => {
    const id = { 'ergon-id': `raw-${kind}-${made++}` };
    if (kind === 'undecodable') return publishRaw(MQTT_URL, topic, '{not json', id);
    if (kind === 'missing-id') return publishRaw(MQTT_URL, topic, '{"n":99}');
    return publishRaw(MQTT_URL, topic, JSON.stringify({ n: 99, blob: 'x'.repeat(MAX_BYTES) }), id);
  };
  return {
    proxy,
    collector,
    clientIds,
    connector: main,
    createConsumer: async () => {
      const running = (await main.service.health()).detail !== 'not started';
      return createMqttConnector<ConformancePayload>(options(running ? `${prefix}-${made++}` : mainId));
    },
    maxInFlight: MAX_IN_FLIGHT,
    readyCount: () => Promise.reject(new Error('MQTT brokers do not count the messages a session holds')),
    readDeadLetters: async () =>
      collector.letters.map(
        (letter): DeadLetterRecord => ({
          ...(letter.id === undefined ? {} : { id: letter.id }),
          ...('payload' in letter ? { payload: letter.payload } : {}),
          metadata: letter.metadata,
          reason: letter.reason,
        }),
      ),
    health: (connector) => connector.service.health(),
    // Mosquitto refuses a client's publish under $SYS/ (PUBACK reason 135, not authorized).
    createRefusingConnector: () =>
      createMqttConnector<ConformancePayload>({ url: MQTT_URL, topic: `$SYS/${topic}` }),
    publishRaw: publish,
    dropConnection: async (connector) => {
      const before = connector.service.disconnects;
      proxy.drop();
      const deadline = Date.now() + 15_000;
      while (connector.service.disconnects === before) {
        if (Date.now() > deadline) throw new Error('the connector did not notice its dropped connection');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

const SESSION_ASSIGNED =
  'MQTT assigns a message of a shared subscription to one session when it is published';

// Cases MQTT cannot pass, skipped by name with why.
const SKIPS = [
  {
    reason:
      'MQTT brokers expose no count of the messages a session holds (acks are checked in connector.test.ts)',
    tests: ['an acked transaction is never delivered again, here or to another consumer'],
  },
  {
    reason:
      'MQTT brokers expose no count of the messages a session holds (PUBACKs are checked in connector.test.ts)',
    tests: ['dispatch resolves only once the broker holds every message'],
  },
  {
    reason: `${SESSION_ASSIGNED}: messages already assigned to the running main connector never move to a consumer that subscribes later (the bound is checked in connector.test.ts)`,
    tests: ['a connector holds at most its in-flight bound unsettled, and each settlement frees one place'],
  },
  {
    reason: `${SESSION_ASSIGNED}: the dispatching main connector's own session gets it, not a consumer that subscribes later (user properties are checked in connector.test.ts)`,
    tests: [
      'metadata and the W3C trace context travel with the message: producer and consumer share one trace',
    ],
  },
];

describe.skipIf(!mosquitto.available)('MqttConnector against Mosquitto', () => {
  describeConnectorConformance<Connector>({
    name: 'mqtt',
    create: harness,
    teardown: async (created) => {
      const h = created as MqttHarness;
      await h.proxy.close();
      await h.collector.stop();
      await endSessions(MQTT_URL, h.clientIds);
    },
    capabilities: {
      findTransaction: { unsupported: 'MQTT has no read of a message without its delivery' },
      refusedPublish: true,
      undecodableMessages: true,
      messagesWithoutId: true,
      oversizedMessages: true,
      connectionDrop: true,
      processCrash: {
        unsupported: `${SESSION_ASSIGNED}, and what a session holds unacked goes only to a client with the same id: a consumer that dies is replaced by one with its client id (the pipeline test kills and replaces processes so)`,
      },
    },
    skip: SKIPS,
  });
});
