/**
 * Publishing at QoS 1: every message sent at once, the batch resolved when
 * the broker answered each PUBACK with success, refused when one reason code
 * is a failure or the answers do not come in time.
 *
 * @module
 */
import type { MqttClient } from 'mqtt';
import type { OutgoingMessage } from '../messages.js';

/** Publishes `messages` to `topic`; rejects with the first refusal, or when `timeoutMs` passes first. */
export async function publishAll(
  client: MqttClient,
  topic: string,
  messages: readonly OutgoingMessage[],
  timeoutMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no PUBACK within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const results = await Promise.race([
      Promise.allSettled(
        messages.map((m) =>
          client.publishAsync(topic, m.payload, {
            qos: 1,
            properties: { userProperties: m.userProperties, contentType: m.contentType },
          }),
        ),
      ),
      timeout,
    ]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    clearTimeout(timer);
  }
}
