import {
  createCodec,
  defaultCodec,
  InMemoryExecutionLog,
  type OperationRecord,
  type RecordResult,
  type RuntimeExecutionLog,
  runtimeStore,
  systemClock,
} from '@ergon/core';
import { describe, expect, it } from 'vitest';
import type { Slot } from './history-cursor.js';
import { Recorder, type RecorderHost } from './recorder.js';

function recorder(codec = defaultCodec): Recorder {
  const host: RecorderHost = {
    flowId: 'f',
    options: {
      store: runtimeStore(new InMemoryExecutionLog()),
      token: 1,
      clock: systemClock,
      codec,
      history: [],
    },
    ended: () => false,
    cancel: () => {},
    writeFailed: () => {},
  };
  return new Recorder(host);
}

describe('Recorder.encodedBefore', () => {
  it('gives the text of the primitive encoded last, the same text the codec writes for it', () => {
    for (const value of [1, 'ok', true, null, undefined, 0, 2n]) {
      const r = recorder();
      const text = r.encode(value, 'step result');
      expect(r.encodedBefore(value)).toBe(text);
      expect(text).toBe(defaultCodec.encode(value));
    }
  });

  it('gives nothing for another value, an object, or before anything was encoded', () => {
    const r = recorder();
    expect(r.encodedBefore(undefined)).toBeUndefined();
    r.encode(0, 'step result');
    expect(r.encodedBefore(-0)).toBeUndefined();
    expect(r.encodedBefore(1)).toBeUndefined();
    const object = { a: 1 };
    r.encode(object, 'step result');
    // An object may have changed since: it is encoded again.
    expect(r.encodedBefore(object)).toBeUndefined();
    expect(r.encodedBefore(0)).toBe(defaultCodec.encode(0));
  });

  it('gives nothing after a value the codec refused', () => {
    const r = recorder(createCodec({ maxBytes: 8, checksum: false }));
    r.encode(1, 'step result');
    expect(() => r.encode('a long string', 'step result')).toThrow();
    expect(r.encodedBefore('a long string')).toBeUndefined();
    expect(r.encodedBefore(1)).toBeDefined();
  });
});

describe('Recorder.detach', () => {
  it('answers as for an ended host: a deferred record is dropped, a write never settles', async () => {
    const r = recorder();
    r.detach();
    const slot: Slot = { position: 0, key: 'a', record: undefined };
    r.defer(r.final(slot, 'step', { result: '1' }));
    expect(r.pending).toBe(false);
    const written = r.write(r.final(slot, 'step', { result: '1' }));
    const first = await Promise.race([
      written.then(() => 'settled'),
      new Promise((res) => setTimeout(res, 20, 'waiting')),
    ]);
    expect(first).toBe('waiting');
  });
});

describe('Recorder.sendAlone', () => {
  /** A recorder on a store that answers each record as `answer` says. */
  function onStore(answer: (record: OperationRecord) => RecordResult) {
    const store = {
      recordOperation: ({ record }: { record: OperationRecord }) => Promise.resolve(answer(record)),
    } as unknown as RuntimeExecutionLog;
    const cancels: string[] = [];
    const r = new Recorder({
      flowId: 'f',
      options: { store, token: 1, clock: systemClock, codec: defaultCodec, history: [] },
      ended: () => false,
      cancel: (reason) => cancels.push(reason),
      writeFailed: () => {},
    });
    return { r, cancels };
  }
  const slot = (position: number): Slot => ({ position, key: `a#${position}`, record: undefined });
  const other = (record: OperationRecord): RecordResult => ({
    record: { ...record, result: '"another"' },
    existed: true,
    cancelRequested: false,
  });

  it('hands the caller the answer to check; nothing is left in flight', async () => {
    const { r, cancels } = onStore((record) => ({ record, existed: false, cancelRequested: true }));
    r.defer(r.final(slot(0), 'step', { result: '1' }));
    const sent = r.sendAlone() as Promise<RecordResult>;
    expect(sent).toBeDefined();
    expect(r.sendAlone()).toBeUndefined();
    expect(r.aloneWritten(sent, await sent)).toBeUndefined();
    expect(cancels).toEqual(['cancellation requested']);
    expect(r.pending).toBe(false);
    const { r: r2 } = onStore(other);
    r2.defer(r2.final(slot(0), 'step', { result: '1' }));
    const refused = r2.sendAlone() as Promise<RecordResult>;
    const written = await refused;
    expect(() => r2.aloneWritten(refused, written)).toThrow('already holds another final record');
  });

  it('checks the answer once for another waiter, whose promise the caller awaits then', async () => {
    const { r } = onStore(other);
    r.defer(r.final(slot(0), 'step', { result: '1' }));
    const sent = r.sendAlone() as Promise<RecordResult>;
    // Another waiter before the caller awaits: its check runs first.
    const waiter = r.send();
    const written = await sent;
    const checked = r.aloneWritten(sent, written);
    expect(checked).toBeDefined();
    await expect(checked).rejects.toThrow('already holds another final record');
    await expect(waiter).rejects.toThrow('already holds another final record');
  });

  it('checks the answer once when the caller awaits first and another waiter comes before it runs', async () => {
    const { r } = onStore(other);
    r.defer(r.final(slot(0), 'step', { result: '1' }));
    const sent = r.sendAlone() as Promise<RecordResult>;
    const caller = sent.then((written) => ({ checked: r.aloneWritten(sent, written) }));
    const waiter = r.send();
    const { checked } = await caller;
    expect(checked).toBeDefined();
    await expect(checked).rejects.toThrow('already holds another final record');
    await expect(waiter).rejects.toThrow('already holds another final record');
  });
});
