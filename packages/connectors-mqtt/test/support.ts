// Shared by the service-backed tests: the broker's url, topics and client
// ids unique per test, raw publishes, a dead-letter collector, and ending
// the sessions a test left on the broker.
import { randomUUID } from 'node:crypto';
import { requireService } from '@ergon/testing';
import { connectAsync, type IClientPublishOptions, type MqttClient } from 'mqtt';
import { type MqttDeadLetter, readDeadLetter, type UserProperties } from '../src/index.js';

/** The broker of the tests (DESIGN §8). */
export const MQTT_URL = process.env.ERGON_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** Whether Mosquitto answers; under `CI=true` an unreachable broker fails the run instead. */
export const mosquitto = await requireService('MQTT (Mosquitto)', MQTT_URL);

/** A topic and an id prefix no other test uses. */
export function uniqueTopic(label: string): { topic: string; prefix: string } {
  const suffix = randomUUID().slice(0, 8);
  return { topic: `ergon-test/${label}/${suffix}`, prefix: `ergon-test-${label}-${suffix}` };
}

/** Publishes one raw message at QoS 1 (a producer that is not an Ergon connector). */
export async function publishRaw(
  url: string,
  topic: string,
  payload: string,
  userProperties?: UserProperties,
): Promise<void> {
  const client = await connectAsync(url, { protocolVersion: 5, clean: true });
  try {
    const options: IClientPublishOptions = {
      qos: 1,
      ...(userProperties ? { properties: { userProperties } } : {}),
    };
    await client.publishAsync(topic, payload, options);
  } finally {
    await client.endAsync();
  }
}

/** Subscribes to a dead-letter topic from the start of a test and keeps what arrives, decoded. */
export class DeadLetterCollector {
  readonly letters: MqttDeadLetter[] = [];
  #client: MqttClient | undefined;

  static async start(url: string, topic: string): Promise<DeadLetterCollector> {
    const collector = new DeadLetterCollector();
    const client = await connectAsync(url, { protocolVersion: 5, clean: true });
    client.on('message', (_topic, payload, packet) => {
      collector.letters.push(readDeadLetter({ payload, userProperties: packet.properties?.userProperties }));
    });
    await client.subscribeAsync(topic, { qos: 1 });
    collector.#client = client;
    return collector;
  }

  async stop(): Promise<void> {
    await this.#client?.endAsync();
  }
}

/** Ends the broker's sessions of these client ids (connect with a clean start, leave with expiry 0). */
export async function endSessions(url: string, clientIds: Iterable<string>): Promise<void> {
  for (const clientId of clientIds) {
    const client = await connectAsync(url, {
      protocolVersion: 5,
      clientId,
      clean: true,
      properties: { sessionExpiryInterval: 0 },
    }).catch(() => undefined);
    await client?.endAsync();
  }
}
