/**
 * "The broker has read it": MQTT has no acknowledgement of a PUBACK, but a
 * broker answers packets in order, so once the PINGRESP to a PINGREQ sent
 * after some PUBACKs arrives, the broker has processed those PUBACKs.
 *
 * Acks do not wait for that round trip (a broker that delays small writes,
 * Nagle's algorithm on its side, would make every ack wait tens of ms).
 * Instead the PUBACKs written since the last answered PINGREQ are kept: if
 * the connection drops before the broker confirmed them, the broker sends
 * those messages again after the reconnect (DUP), and the connector
 * acknowledges them again instead of delivering them twice. A PINGREQ
 * goes out after a turn of the event loop in which PUBACKs were written,
 * one at a time: those written while one is unanswered wait for the next
 * (a ping per turn was a write and a read more per batch, for both sides).
 *
 * @module
 */
import type { MqttClient, Packet } from 'mqtt';
import { first, type IncomingMessage, MQTT_PROPERTIES } from '../messages.js';

/** The part of mqtt.js's client that writes a packet (what PUBACKs and PINGREQs go through). */
export interface PacketWriter {
  _sendPacket(
    packet: { cmd: string; messageId?: number; reasonCode?: number },
    cb?: (error?: Error) => void,
  ): void;
}

/** The PUBACKs of one write: packet ids and their messages, index by index. */
interface Written {
  readonly packetIds: readonly number[];
  readonly messages: readonly IncomingMessage[];
}

interface Batch {
  /** The PINGREQ that confirms this batch is the nth sent on the connection. */
  readonly nth: number;
  readonly acks: Written[];
  readonly done: Array<() => void>;
}

/** PUBACKs of one client, confirmed by PINGREQ round trips. */
export class Confirmer {
  readonly #client: MqttClient;
  #sent = 0;
  #answered = 0;
  /** Written, ping not yet sent: the writes' own arrays, kept as they are (nothing to do per PUBACK). */
  #open: Written[] = [];
  #openDone: Array<() => void> = [];
  #scheduled = false;
  /** Ping sent, not answered. */
  #waiting: Batch[] = [];
  /** Written but never confirmed when the connection dropped: re-acked if the broker resends them. */
  readonly #unconfirmed = new Map<number, IncomingMessage>();

  constructor(client: MqttClient) {
    this.#client = client;
    client.on('packetsend', (packet: Packet) => {
      if (packet.cmd === 'pingreq') this.#sent++;
    });
    client.on('packetreceive', (packet: Packet) => {
      if (packet.cmd !== 'pingresp') return;
      this.#answered++;
      while (this.#waiting[0] && this.#waiting[0].nth <= this.#answered) {
        for (const resolve of (this.#waiting.shift() as Batch).done) resolve();
      }
      if (this.#open.length > 0) this.#schedule();
    });
    client.on('close', () => {
      // Pings of the lost connection are never answered: keep what they would have confirmed.
      this.#sent = this.#answered = 0;
      for (const batch of [...this.#waiting, { nth: 0, acks: this.#open, done: this.#openDone }]) {
        for (const { packetIds, messages } of batch.acks) {
          for (let i = 0; i < packetIds.length; i++)
            this.#unconfirmed.set(packetIds[i] as number, messages[i] as IncomingMessage);
        }
        for (const resolve of batch.done) resolve();
      }
      this.#waiting = [];
      this.#open = [];
      this.#openDone = [];
    });
  }

  /**
   * Records the PUBACKs of one write (`messages[i]` is the message of
   * `packetIds[i]`; neither array changes after). The messages are kept,
   * not their keys: a key is needed only when the connection drops before
   * the broker confirmed, so it is not built for every ack.
   */
  written(packetIds: readonly number[], messages: readonly IncomingMessage[]): void {
    if (this.#unconfirmed.size > 0) {
      for (let i = 0; i < packetIds.length; i++) this.#unconfirmed.delete(packetIds[i] as number);
    }
    this.#open.push({ packetIds, messages });
    this.#schedule();
  }

  /**
   * True when the broker sent again a message whose PUBACK was written but
   * not confirmed before a drop (same packet id, same key): ack it again.
   */
  wasAcked(packetId: number, message: IncomingMessage): boolean {
    const acked = this.#unconfirmed.get(packetId);
    if (acked === undefined || messageKey(acked) !== messageKey(message)) return false;
    this.#unconfirmed.delete(packetId);
    return true;
  }

  /** Resolves once every PUBACK written so far is confirmed, or the connection dropped. */
  settled(): Promise<void> {
    if (this.#open.length === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const last = this.#waiting[this.#waiting.length - 1];
      if (this.#open.length > 0 || !last) this.#openDone.push(resolve);
      else last.done.push(resolve);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#open.length === 0 || this.#waiting.length > 0 || !this.#client.connected) return;
      this.#waiting.push({ nth: this.#sent + 1, acks: this.#open, done: this.#openDone });
      this.#open = [];
      this.#openDone = [];
      (this.#client as unknown as PacketWriter)._sendPacket({ cmd: 'pingreq' });
    });
  }
}

/** A message's transaction id and delivery count: what tells a resend from a new message under a reused packet id. */
function messageKey(message: IncomingMessage): string {
  const props = message.userProperties;
  return `${first(props?.[MQTT_PROPERTIES.id]) ?? ''} ${first(props?.[MQTT_PROPERTIES.deliveries]) ?? '0'}`;
}
