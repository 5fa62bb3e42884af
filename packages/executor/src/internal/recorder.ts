/**
 * The recorder: builds an activation's history records and writes them under
 * its lease. Every record write, the hot path of a finished step included,
 * goes through {@link Recorder.write}, so the lease, the cancel flag and a
 * failed store call are handled in one place.
 *
 * @module
 */
import type {
  Clock,
  Codec,
  OperationKind,
  OperationRecord,
  RecordResult,
  RuntimeExecutionLog,
} from '@ergon/core';
import { encodeError } from './encode-error.js';
import type { Slot } from './history-cursor.js';
import { nextTurn, type TurnTask } from './next-turn.js';

/**
 * A promise that never settles: what the work of an ended activation awaits.
 * A fresh one per use: a shared one would keep every reaction chained to it,
 * and with them the frames of every flow that ever suspended, for good.
 */
export function never(): Promise<never> {
  return new Promise<never>(() => {});
}

/** What a {@link Recorder} needs from its activation. */
export interface RecorderHost {
  readonly flowId: string;
  readonly options: {
    readonly store: RuntimeExecutionLog;
    readonly token: number;
    readonly clock: Clock;
    readonly codec: Codec;
    readonly history: readonly OperationRecord[];
  };
  /** True once the activation ended: nothing more is written. */
  ended(): boolean;
  /** The store reported a cancel request. */
  cancel(reason: string): void;
  /** A store call failed: the activation is abandoned. */
  writeFailed(error: unknown): void;
}

/** What a recorder calls on its host after construction. */
type HostCalls = Pick<RecorderHost, 'ended' | 'cancel' | 'writeFailed'>;

/**
 * What a recorder answers to once its activation ended ({@link Recorder.detach}): the activation
 * itself would, for good, do the same (ended, and a cancel or failure after its end is ignored).
 */
const ENDED_HOST: HostCalls = {
  ended: () => true,
  cancel: () => {},
  writeFailed: () => {},
};

/** Fields of a final record beyond its slot. */
export interface FinalFields {
  /** The encoded result (completed). */
  readonly result?: string | undefined;
  /** The error (failed); encoded here. */
  readonly error?: unknown;
  readonly failed?: boolean;
  readonly attempts?: number;
  readonly startedAt?: number;
}

/** Writes one activation's records. */
export class Recorder implements TurnTask {
  #host: HostCalls;
  readonly #flowId: string;
  readonly #token: number;
  readonly #store: RuntimeExecutionLog;
  readonly #clock: Clock;
  readonly #codec: Codec;
  #nextSeq = 1;
  /** Completed steps' records not sent yet ({@link defer}). */
  #deferred: OperationRecord[] = [];
  /** Deferred records sent and not yet confirmed (checked: see {@link #sentNow}). */
  #sent: Promise<unknown> | undefined;
  /**
   * The record sent on its own ({@link sendAlone}), the store's answer to it (not checked yet),
   * and, once another waiter asked for it ({@link #sentNow}), that answer checked.
   */
  #alone: OperationRecord | undefined;
  #aloneSent: Promise<RecordResult> | undefined;
  #aloneChecked: Promise<unknown> | undefined;
  /** The last record sent alone whose answer another waiter checked, and that check. */
  #checkedSent: Promise<RecordResult> | undefined;
  #checkedBy: Promise<unknown> | undefined;
  /** A look is queued for the next turn ({@link defer}). */
  #turnQueued = false;
  /** The last primitive {@link encode} encoded, and its text ({@link encodedBefore}). */
  #lastValue: unknown;
  #lastText: string | undefined;

  /** `host` is the activation (no hooks made for each). */
  constructor(host: RecorderHost) {
    const { options } = host;
    this.#host = host;
    this.#flowId = host.flowId;
    this.#token = options.token;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#codec = options.codec;
    for (const r of options.history)
      if (r.seq !== undefined && r.seq >= this.#nextSeq) this.#nextSeq = r.seq + 1;
  }

  /**
   * The activation ended: the recorder lets go of it. A recorder waiting in the next turn's queue
   * (`next-turn.ts`) would otherwise keep the whole activation until the event loop turns, which
   * a process running flows back to back on a synchronous store (SQLite: only microtasks) may
   * not do for thousands of flows; each kept ~3.5 KB that the GC promoted and marked.
   */
  detach(): void {
    this.#host = ENDED_HOST;
    this.#checkedSent = undefined;
    this.#checkedBy = undefined;
    this.#lastValue = undefined;
    this.#lastText = undefined;
  }

  /** The next recording-order number of a final record. */
  nextSeq(): number {
    return this.#nextSeq++;
  }

  /** A final record of `slot`: completed with `result`, or failed with `error` when `failed`. */
  final(slot: Slot, kind: OperationKind, fields: FinalFields): OperationRecord {
    const now = this.#clock.now();
    // One literal, no spreads: this runs once per step and is on the hot path. `status` first:
    // stores that keep records as JSON with `status` leading then encode them as they are.
    return {
      status: fields.failed ? 'failed' : 'completed',
      flowId: this.#flowId,
      position: slot.position,
      key: slot.key,
      kind,
      attempts: fields.attempts ?? 1,
      result: fields.failed ? undefined : fields.result,
      error: fields.failed ? encodeError(this.#codec, fields.error) : undefined,
      startedAt: fields.startedAt ?? slot.record?.startedAt ?? now,
      finishedAt: now,
      seq: this.nextSeq(),
    };
  }

  /** A `waiting` record of `slot`: a timer, a signal timeout, a child or a retry backoff ahead. */
  waiting(
    slot: Slot,
    kind: OperationKind,
    wakeAt: number | undefined,
    extra: { attempts?: number; error?: unknown; startedAt?: number } = {},
  ): OperationRecord {
    return {
      status: 'waiting',
      flowId: this.#flowId,
      position: slot.position,
      key: slot.key,
      kind,
      attempts: extra.attempts ?? 1,
      wakeAt,
      error: extra.error === undefined ? undefined : encodeError(this.#codec, extra.error),
      startedAt: extra.startedAt ?? slot.record?.startedAt ?? this.#clock.now(),
    };
  }

  /** The encoded form of a value recorded as `what`. @throws SerializationError */
  encode(value: unknown, what: string): string {
    const text = this.#codec.encode(value, what);
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
      this.#lastValue = value;
      this.#lastText = text;
    }
    return text;
  }

  /**
   * The text {@link encode} gave last, when `value` is the same primitive it encoded then (the
   * codec writes a primitive the same way each time): a flow that returns its last step's result
   * has it encoded once. Undefined otherwise.
   */
  encodedBefore(value: unknown): string | undefined {
    return this.#lastText !== undefined && Object.is(value, this.#lastValue) ? this.#lastText : undefined;
  }

  /**
   * Writes a completed step's `record` without waiting for it: the step's caller goes on, and
   * the activation's next store call (a step starting, any other write) sends it first and waits
   * until it is stored, so no later effect runs before it is durable. When the run ends, the
   * runner takes it ({@link release}) and writes it in one batch with the finish or suspension:
   * a one-step flow then costs one write for its step and its end. Left alone (the flow awaits
   * something else), it goes on the next turn of the event loop.
   */
  defer(record: OperationRecord): void {
    if (this.#host.ended()) return;
    this.#deferred.push(record);
    // One look a turn: steps that follow one another in a turn queue one, not one each.
    if (this.#turnQueued) return;
    this.#turnQueued = true;
    nextTurn(this);
  }

  /** Sends deferred records left alone for a turn (a `TurnTask`: no closure per record). */
  nextTurn(): void {
    this.#turnQueued = false;
    if (!this.#host.ended() && this.#deferred.length > 0) void this.flush();
  }

  /** True when deferred records are not stored yet. */
  get pending(): boolean {
    return this.#deferred.length > 0 || this.#sent !== undefined || this.#aloneSent !== undefined;
  }

  /** Sends the deferred records and resolves once all are stored; a failure ends the activation. */
  async flush(): Promise<void> {
    try {
      await this.send();
    } catch (error) {
      await this.#failed(error);
    }
  }

  /** {@link send} rejected with `error`: the activation ends; never settles. */
  sendFailed(error: unknown): Promise<never> {
    return this.#failed(error);
  }

  /**
   * What the runner writes before the run's last write: the deferred records not sent yet, and
   * the confirmation of those sent (which rejects with a store call's failure). The recorder
   * keeps neither.
   */
  release(): { readonly records: OperationRecord[]; readonly sent: Promise<unknown> | undefined } {
    const released = { records: this.#deferred, sent: this.#sentNow() };
    this.#deferred = [];
    this.#sent = undefined;
    return released;
  }

  /**
   * {@link flush} for a caller that handles the failure itself: resolves once the deferred records
   * are stored, rejects with a store call's failure, to be handed to {@link sendFailed}.
   */
  send(): Promise<unknown> {
    // One record and nothing in flight: one store call and one reaction, not Promise.all.
    this.sendAlone();
    const deferred = this.#deferred;
    const sent = this.#sentNow();
    if (deferred.length > 0) {
      const store = this.#store;
      const token = this.#token;
      const writes = deferred.map((record) =>
        store.recordOperation({ flowId: record.flowId, token, record }).then((w) => this.#check(record, w)),
      );
      this.#deferred = [];
      const all: Promise<unknown> = Promise.all(sent ? [sent, ...writes] : writes);
      this.#sent = all;
      all.then(
        () => {
          if (this.#sent === all) this.#sent = undefined;
        },
        () => {},
      );
    }
    return this.#sent ?? Promise.resolve();
  }

  /**
   * The common case of a step about to start (steps one after another): the one deferred record
   * sent on its own, nothing else in flight. Returns the store's answer, which the caller awaits
   * and hands to {@link aloneWritten}: no promise, reaction and turn of the recorder's own per
   * step. Undefined when that is not the case; then {@link send}.
   */
  sendAlone(): Promise<RecordResult> | undefined {
    const deferred = this.#deferred;
    if (deferred.length !== 1 || this.#sent !== undefined || this.#aloneSent !== undefined) return undefined;
    // The list is kept (a new one grows a new store).
    const record = deferred.pop() as OperationRecord;
    this.#alone = record;
    const sent = this.#store.recordOperation({ flowId: record.flowId, token: this.#token, record });
    this.#aloneSent = sent;
    return sent;
  }

  /**
   * The caller of {@link sendAlone} got `written`, the answer to `sent`: checks it (throws as
   * {@link send} rejects). When another waiter asked for the checked answer meanwhile, that one
   * checks it: returns it, to be awaited instead.
   */
  aloneWritten(sent: Promise<RecordResult>, written: RecordResult): Promise<unknown> | undefined {
    // Checked already, by another waiter's reaction that ran first.
    if (sent !== this.#aloneSent) return sent === this.#checkedSent ? this.#checkedBy : undefined;
    if (this.#aloneChecked) return this.#aloneChecked;
    this.#settleAlone(written);
    return undefined;
  }

  /**
   * What a waiter other than the caller of {@link sendAlone} awaits: the records in flight,
   * checked. The answer to a record sent alone is checked here once someone else waits for it.
   */
  #sentNow(): Promise<unknown> | undefined {
    const alone = this.#aloneSent;
    if (alone !== undefined && this.#aloneChecked === undefined) {
      // sendAlone sends only while nothing else is in flight; whatever was sent since joined this.
      const checked = alone.then(this.#aloneAnswered);
      this.#aloneChecked = checked;
      this.#checkedSent = alone;
      this.#checkedBy = checked;
      this.#sent = this.#sent ? Promise.all([this.#sent, checked]) : checked;
    }
    return this.#sent;
  }

  /** The answer to the record sent alone, for the waiters of {@link #sentNow}. */
  readonly #aloneAnswered = (written: RecordResult): void => {
    const checked = this.#aloneChecked;
    this.#settleAlone(written);
    if (checked !== undefined && this.#sent === checked) this.#sent = undefined;
  };

  /** The answer to the record sent alone, checked as one of a batch; then nothing of it is in flight. */
  #settleAlone(written: RecordResult): void {
    const record = this.#alone as OperationRecord;
    this.#alone = undefined;
    this.#aloneSent = undefined;
    this.#aloneChecked = undefined;
    this.#check(record, written);
  }

  /**
   * Takes the answer to a deferred record sent before the run's end: a cancel request it reports,
   * and a check. Another final record already at its position (a
   * repeat of this write after a lost reply is the same record) means the flow went on with a
   * result the store does not hold: the error ends the run, and the next replays the stored one.
   */
  #check(record: OperationRecord, written: RecordResult): void {
    if (written.cancelRequested) this.#host.cancel('cancellation requested');
    const kept = written.record;
    if (
      written.existed &&
      (kept.status !== record.status || kept.result !== record.result || kept.key !== record.key)
    ) {
      throw new Error(
        `flow ${record.flowId}: position ${record.position} already holds another final record; the next run replays it`,
      );
    }
  }

  /** Writes `record`; resolves with the record now stored (an earlier final one wins). */
  async write(record: OperationRecord): Promise<OperationRecord> {
    if (this.#host.ended()) return never();
    if (this.pending) await this.flush();
    let written: RecordResult;
    try {
      written = await this.#store.recordOperation({
        flowId: record.flowId,
        token: this.#token,
        record,
      });
    } catch (error) {
      return this.#failed(error);
    }
    if (written.cancelRequested) this.#host.cancel('cancellation requested');
    return written.record;
  }

  /** Any other store call of live work (read a child, create it); a failure ends the activation. */
  async call<T>(call: () => Promise<T>): Promise<T> {
    if (this.#host.ended()) return never();
    if (this.pending) await this.flush();
    try {
      return await call();
    } catch (error) {
      return this.#failed(error);
    }
  }

  #failed(error: unknown): Promise<never> {
    if (!this.#host.ended()) this.#host.writeFailed(error);
    return never();
  }
}
