import { describe, expect, it } from 'vitest';
import { FlowAbort } from './flow-abort.js';

describe('FlowAbort', () => {
  it('fires a signal read before the abort, with the reason given', () => {
    const abort = new FlowAbort();
    const signal = abort.signal;
    const heard: unknown[] = [];
    signal.addEventListener('abort', () => heard.push(signal.reason));
    const reason = new Error('cancelled');
    abort.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(heard).toEqual([reason]);
    expect(abort.signal).toBe(signal);
  });

  it('makes a lazy reason only when the signal is read, once, and keeps the first abort', () => {
    const abort = new FlowAbort();
    let made = 0;
    abort.abortLazily(() => {
      made++;
      return new Error('flow suspended');
    });
    abort.abort(new Error('later'));
    expect(abort.aborted).toBe(true);
    expect(made).toBe(0);
    const signal = abort.signal;
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('flow suspended');
    expect(abort.signal.reason).toBe(signal.reason);
    expect(made).toBe(1);
  });

  it('aborts a signal already read at a lazy abort, at once', () => {
    const abort = new FlowAbort();
    const signal = abort.signal;
    expect(signal.aborted).toBe(false);
    abort.abortLazily(() => new Error('fatal'));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('fatal');
  });
});
