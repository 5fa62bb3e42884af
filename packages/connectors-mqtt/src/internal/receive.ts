/**
 * Receiving with deferred PUBACKs: mqtt.js sends the PUBACK of a QoS 1
 * message as soon as its handler calls back; calling back with an error
 * makes it send none, so the PUBACK waits until the connector settles the
 * message (see `MqttService.puback`). A resend (DUP) of a message whose
 * PUBACK was written but not confirmed before a drop is acked again at once.
 *
 * @module
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { IncomingMessage } from '../messages.js';
import type { Confirmer } from './confirm.js';

/** Returned to mqtt.js's `handleMessage` so that it sends no PUBACK: the connector sends it when it settles. */
const DEFERRED = Object.freeze(new Error('ergon: PUBACK deferred until the transaction is settled'));

/** Hands every QoS 1 message of `client` to `deliver`, its PUBACK left to whoever settles it. */
export function receiveDeferred(
  client: MqttClient,
  confirmer: Confirmer,
  deliver: (packetId: number, message: IncomingMessage) => void,
): void {
  client.handleMessage = (packet: IPublishPacket, done: (error?: Error) => void) => {
    if (packet.qos === 0 || packet.messageId === undefined) {
      done();
      return;
    }
    const message = {
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      userProperties: packet.properties?.userProperties,
      dup: packet.dup,
    };
    if (packet.dup && confirmer.wasAcked(packet.messageId, message)) {
      done(); // acked before the drop, its PUBACK lost with the connection: mqtt.js acks it again
      return;
    }
    deliver(packet.messageId, message);
    done(DEFERRED);
  };
}
