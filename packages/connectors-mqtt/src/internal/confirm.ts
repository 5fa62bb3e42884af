/**
 * "The broker has read it": MQTT has no acknowledgement of a PUBACK, but a
 * broker answers packets in order, so once the PINGRESP to a PINGREQ sent
 * after some PUBACKs arrives, the broker has processed those PUBACKs. One
 * PINGREQ serves every PUBACK of a turn of the event loop. A connection lost
 * before the answer rejects the waiters (their PUBACKs may be lost with it).
 *
 * @module
 */
import type { MqttClient, Packet } from 'mqtt';

interface Waiter {
  readonly nth: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** The part of mqtt.js's client that writes a packet (what PUBACKs and PINGREQs go through). */
export interface PacketWriter {
  _sendPacket(
    packet: { cmd: string; messageId?: number; reasonCode?: number },
    cb?: (error?: Error) => void,
  ): void;
}

/** Round trips on one connection of one client. */
export class Confirmer {
  readonly #client: MqttClient;
  #sent = 0;
  #answered = 0;
  #waiters: Waiter[] = [];
  #next: Promise<void> | undefined;

  constructor(client: MqttClient) {
    this.#client = client;
    client.on('packetsend', (packet: Packet) => {
      if (packet.cmd === 'pingreq') this.#sent++;
    });
    client.on('packetreceive', (packet: Packet) => {
      if (packet.cmd !== 'pingresp') return;
      this.#answered++;
      const ready = this.#waiters.filter((w) => w.nth <= this.#answered);
      this.#waiters = this.#waiters.filter((w) => w.nth > this.#answered);
      for (const waiter of ready) waiter.resolve();
    });
    client.on('close', () => {
      // Pings of the lost connection are never answered: start counting afresh.
      this.#sent = this.#answered = 0;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters)
        waiter.reject(new Error('the connection closed before the broker confirmed'));
    });
  }

  /** Resolves once the broker has processed everything written before this turn of the event loop ended. */
  confirm(): Promise<void> {
    this.#next ??= new Promise<void>((resolve) => setImmediate(resolve)).then(
      () =>
        new Promise<void>((resolve, reject) => {
          this.#next = undefined;
          if (!this.#client.connected) {
            reject(new Error('not connected'));
            return;
          }
          this.#waiters.push({ nth: this.#sent + 1, resolve, reject });
          (this.#client as unknown as PacketWriter)._sendPacket({ cmd: 'pingreq' });
        }),
    );
    return this.#next;
  }
}
