/**
 * PUBACKs written a turn at a time. A consumer settles a fetched batch
 * within one turn of the event loop; its PUBACKs are written together once
 * that turn's promise callbacks have run, and share one promise. The
 * consumer task's runner then waits on one reaction for the whole batch
 * instead of a promise, a write callback and a closure per ack (most of the
 * connector's cost per message when each ack had its own).
 *
 * @module
 */
import type { MqttClient } from 'mqtt';
import type { IncomingMessage } from '../messages.js';
import type { Confirmer, PacketWriter } from './confirm.js';

interface Turn {
  readonly packetIds: number[];
  readonly messages: IncomingMessage[];
  readonly promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** What {@link Pubacks} writes with. */
export interface PubacksOptions {
  /** The client whose deliveries are acknowledged. */
  readonly client: MqttClient;
  /** Told of every PUBACK written (it confirms them with a PINGREQ). */
  readonly confirmer: Confirmer;
  /** Turns the client's write error into the error the acks reject with. */
  readonly toError: (error: unknown) => Error;
}

/** The PUBACKs of one client. */
export class Pubacks {
  readonly #client: MqttClient;
  readonly #confirmer: Confirmer;
  readonly #toError: (error: unknown) => Error;
  #turn: Turn | undefined;

  constructor(options: PubacksOptions) {
    this.#client = options.client;
    this.#confirmer = options.confirmer;
    this.#toError = options.toError;
  }

  /**
   * Queues the PUBACK of `packetId`; the promise (the same for every PUBACK
   * of this turn) resolves once they are written, or rejects with the
   * client's error.
   */
  send(packetId: number, message: IncomingMessage): Promise<void> {
    let turn = this.#turn;
    if (turn === undefined) {
      turn = newTurn();
      this.#turn = turn;
      // After the promise callbacks of this turn (the rest of the batch's acks), before any I/O.
      process.nextTick(() => this.#flush());
    }
    turn.packetIds.push(packetId);
    turn.messages.push(message);
    return turn.promise;
  }

  #flush(): void {
    const turn = this.#turn as Turn;
    this.#turn = undefined;
    const { packetIds, messages } = turn;
    const confirm = () => this.#confirmer.written(packetIds, messages);
    const settle = (error?: Error | null) => {
      if (error) turn.reject(this.#toError(error));
      else turn.resolve();
    };
    try {
      const stream = this.#client.stream;
      if (this.#client.connected && stream.writable) {
        stream.write(encodePubacks(packetIds), settle);
        // Now, not once written: a drop before the callback must find them unconfirmed (re-acked if resent).
        confirm();
      } else {
        this.#queue(packetIds, (error) => {
          if (!error) confirm();
          settle(error);
        });
      }
    } catch (error) {
      turn.reject(this.#toError(error));
    }
  }

  /** Offline: through mqtt.js, which keeps them until it is connected again (the session resumes). */
  #queue(packetIds: readonly number[], written: (error?: Error) => void): void {
    const writer = this.#client as unknown as PacketWriter;
    const last = packetIds.length - 1;
    for (let i = 0; i <= last; i++) {
      // In order, so the last one's callback says they all went.
      writer._sendPacket(
        { cmd: 'puback', messageId: packetIds[i] as number, reasonCode: 0 },
        i === last ? written : undefined,
      );
    }
  }
}

/**
 * The PUBACKs as one buffer, written under mqtt.js (which keeps no state
 * for QoS 1 messages it received). Through mqtt.js each was three writes
 * to the corked socket and a `nextTick` to uncork it: a tenth of the
 * connector's CPU per message. An MQTT 5 PUBACK with reason Success and no
 * properties is four bytes (§3.4.2.1: the reason code may then be left out):
 * type 4 (0x40), remaining length 2, the packet id (big-endian).
 */
export function encodePubacks(packetIds: readonly number[]): Buffer {
  const bytes = Buffer.allocUnsafe(4 * packetIds.length);
  for (let i = 0; i < packetIds.length; i++) {
    const at = 4 * i;
    bytes[at] = 0x40;
    bytes[at + 1] = 2;
    bytes.writeUInt16BE(packetIds[i] as number, at + 2);
  }
  return bytes;
}

function newTurn(): Turn {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { packetIds: [], messages: [], promise, resolve, reject };
}
