/**
 * The MQTT 5 client as the service uses it: made on a persistent session
 * (clean start off, a session expiry) with mqtt.js's own reconnection, its
 * first connect awaited, the group's shared subscription made at QoS 1, and
 * its end (a DISCONNECT that keeps or ends the session).
 *
 * @module
 */
import { connect, type ISubscriptionMap, type MqttClient, type Packet } from 'mqtt';
import type { ResolvedMqttOptions } from '../options.js';
import type { Confirmer, PacketWriter } from './confirm.js';

/** Makes the client; it connects (and reconnects) on its own. */
export function createClient(o: ResolvedMqttOptions): MqttClient {
  return connect(o.url, {
    protocolVersion: 5,
    clientId: o.clientId,
    clean: false,
    keepalive: Math.max(1, Math.round(o.keepaliveMs / 1000)),
    reconnectPeriod: o.reconnectPeriodMs,
    connectTimeout: o.timeoutMs,
    properties: {
      sessionExpiryInterval: Math.round(o.sessionExpiryMs / 1000),
      receiveMaximum: o.receiveMaximum,
    },
  });
}

/** Resolves at the client's first connect; rejects with its first error before that. */
export function firstConnect(client: MqttClient): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    const ok = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      client.off('connect', ok);
      client.off('error', fail);
    };
    client.once('connect', ok);
    client.once('error', fail);
  });
}

/** Subscribes `$share/<group>/<topic>` at QoS 1. @throws when the broker refuses it. */
export async function subscribeGroup(client: MqttClient, group: string, topic: string): Promise<void> {
  const filter = `$share/${group}/${topic}`;
  // `resubscribe`: send it even though mqtt.js believes the subscription is in place.
  const request = { [filter]: { qos: 1 }, resubscribe: true } as ISubscriptionMap;
  const stopNudging = nudgeWhileReceiving(client);
  try {
    const granted = await client.subscribeAsync(request);
    const code = granted[0]?.qos ?? 128;
    if (code > 2)
      throw Object.assign(new Error(`the broker refused the subscription (reason ${code})`), { code });
  } finally {
    stopNudging();
  }
}

/**
 * A resumed session's messages arrive before the SUBACK, and nothing is
 * sent back meanwhile (their PUBACKs wait for the consumer, which waits for
 * the SUBACK). A broker with Nagle's algorithm on (Mosquitto's default)
 * holds the small SUBACK until those messages are acknowledged by TCP,
 * which Linux delays up to 40 ms when it has nothing to send: half the
 * starts took 45 ms more. A PINGREQ after each turn in which messages came
 * carries that acknowledgement at once. Returns the function that stops it.
 */
function nudgeWhileReceiving(client: MqttClient): () => void {
  let scheduled = false;
  const ping = () => {
    scheduled = false;
    if (client.connected) (client as unknown as PacketWriter)._sendPacket({ cmd: 'pingreq' });
  };
  const received = (packet: Packet) => {
    if (packet.cmd !== 'publish' || scheduled) return;
    scheduled = true;
    setImmediate(ping);
  };
  client.on('packetreceive', received);
  return () => client.off('packetreceive', received);
}

/** Waits (2 s at most) for the PUBACKs to be confirmed, disconnects (2 s at most), then closes the socket. */
export async function endClient(
  client: MqttClient,
  confirmer: Confirmer | undefined,
  endSession: boolean,
): Promise<void> {
  // The broker has read every PUBACK before the DISCONNECT (same connection, in order); wait for it all the same.
  await Promise.race([confirmer?.settled(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  const disconnect = endSession ? { properties: { sessionExpiryInterval: 0 } } : {};
  await Promise.race([
    client.endAsync(false, disconnect).catch(() => undefined),
    new Promise((resolve) => setTimeout(resolve, 2000).unref()),
  ]);
  client.end(true);
}
