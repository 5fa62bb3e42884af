/**
 * Receiving with deferred PUBACKs: mqtt.js sends the PUBACK of a QoS 1
 * message as soon as its handler calls back; calling back with an error
 * makes it send none, so the PUBACK waits until the connector settles the
 * message (see `MqttService.puback`). A resend (DUP) of a message whose
 * PUBACK was written but not confirmed before a drop is acked again at once.
 *
 * mqtt.js handles received packets one per `process.nextTick`, so while
 * data keeps coming it never lets promise callbacks or timers run: a
 * consumer could take nothing until a whole backlog was read (Mosquitto
 * sends one past Receive Maximum once PUBACKs flow), then process it all,
 * holding it in memory meanwhile. Every `yieldEvery` messages, reading
 * yields one turn of the event loop instead, so the consumer takes and
 * settles messages while more arrive. Never longer than a turn: PUBACKs to
 * publishes and PINGRESPs come on the same stream and must not wait on the
 * consumer.
 *
 * @module
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { IncomingMessage } from '../messages.js';
import type { Confirmer } from './confirm.js';

/** Returned to mqtt.js's `handleMessage` so that it sends no PUBACK: the connector sends it when it settles. */
const DEFERRED = Object.freeze(new Error('ergon: PUBACK deferred until the transaction is settled'));

/** What {@link receiveDeferred} needs. */
export interface ReceiveOptions {
  /** The client whose messages are received. */
  readonly client: MqttClient;
  /** Tells resends of messages acked before a drop. */
  readonly confirmer: Confirmer;
  /** Gets every other QoS 1 message. */
  readonly deliver: (packetId: number, message: IncomingMessage) => void;
  /** Messages after which reading yields a turn of the event loop (the client's Receive Maximum). */
  readonly yieldEvery: number;
}

/** Hands every QoS 1 message of `client` to `deliver`, its PUBACK left to whoever settles it. */
export function receiveDeferred(options: ReceiveOptions): void {
  const { client, confirmer, deliver, yieldEvery } = options;
  let received = 0;
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
    if (++received % yieldEvery === 0) setImmediate(done, DEFERRED);
    else done(DEFERRED);
  };
}
