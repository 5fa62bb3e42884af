import { describe, expect, it } from 'vitest';
import { CancelScope } from './scope.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('CancelScope', () => {
  it('an abort reaches every child and grandchild, and a signal made before or after it', () => {
    const root = new CancelScope();
    const child = root.child();
    const grandchild = child.child();
    const early = grandchild.signal;
    const sibling = root.child();
    sibling.dispose();
    root.abort(new Error('stop'));
    expect(child.aborted && grandchild.aborted).toBe(true);
    expect(early.aborted).toBe(true);
    expect((grandchild.reason as Error).message).toBe('stop');
    expect(grandchild.signal.aborted).toBe(true);
    // Disposed first: it no longer ends with its parent.
    expect(sibling.aborted).toBe(false);
    // A child of an ended scope starts ended.
    expect(root.child().aborted).toBe(true);
  });

  it('a timeout ends the child alone with its reason; dispose clears it', async () => {
    const root = new CancelScope();
    const timed = root.child(1, () => new Error('too slow'));
    const cleared = root.child(1, () => new Error('never'));
    cleared.dispose();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(timed.reason?.message).toBe('too slow');
    expect(cleared.aborted).toBe(false);
    expect(root.aborted).toBe(false);
  });

  it('race settles with the work, or rejects at the abort while the work goes on unheard', async () => {
    const scope = new CancelScope();
    await expect(scope.race(Promise.resolve(7))).resolves.toBe(7);
    let fail: (error: Error) => void = () => undefined;
    const ignored = new Promise<never>((_, reject) => {
      fail = reject;
    });
    const raced = scope.race(ignored);
    scope.abort(new Error('gone'));
    await expect(raced).rejects.toThrow('gone');
    fail(new Error('late')); // swallowed: no unhandled rejection
    await tick();
    await expect(scope.race(Promise.resolve(1))).rejects.toThrow('gone');
  });

  it('raceTo maps the value or error of the work, or the abort, in one promise; a throwing callback rejects it', async () => {
    const scope = new CancelScope();
    const onValue = (n: number) => `value ${n}`;
    const onError = (error: Error) => `error ${error.message}`;
    await expect(scope.raceTo(Promise.resolve(7), onValue, onError)).resolves.toBe('value 7');
    await expect(scope.raceTo(Promise.reject(new Error('bad')), onValue, onError)).resolves.toBe('error bad');
    const boom = () => {
      throw new Error('callback broke');
    };
    await expect(scope.raceTo(Promise.resolve(1), boom, onError)).rejects.toThrow('callback broke');
    let fail: (error: Error) => void = () => undefined;
    const ignored = new Promise<number>((_, reject) => {
      fail = reject;
    });
    const raced = scope.raceTo(ignored, onValue, onError);
    scope.abort(new Error('gone'));
    await expect(raced).resolves.toBe('error gone');
    fail(new Error('late')); // swallowed: no unhandled rejection
    await tick();
    await expect(scope.raceTo(Promise.resolve(1), onValue, onError)).resolves.toBe('error gone');
  });

  it('a watcher is told once when the scope ends, unless it stopped watching; an ended scope takes none', () => {
    const root = new CancelScope();
    const told: string[] = [];
    const watched = root.child();
    expect(watched.watch({ scopeEnded: (reason) => told.push(`ended: ${reason.message}`) })).toBe(true);
    const quiet = root.child();
    const watcher = { scopeEnded: () => told.push('never') };
    quiet.watch(watcher);
    quiet.unwatch(watcher);
    root.abort(new Error('hard stop'));
    root.abort(new Error('again'));
    expect(told).toEqual(['ended: hard stop']);
    expect(watched.watch({ scopeEnded: () => told.push('late') })).toBe(false);
    expect(told).toEqual(['ended: hard stop']);
  });

  it('many children link and unlink in any order; an abort reaches exactly those still linked', () => {
    const root = new CancelScope();
    const children = Array.from({ length: 50 }, () => root.child());
    for (const [i, child] of children.entries()) if (i % 3 === 0) child.dispose();
    root.abort('done');
    for (const [i, child] of children.entries()) expect(child.aborted).toBe(i % 3 !== 0);
  });

  it('fromSignal ends with the signal through one listener, removed by dispose', () => {
    const controller = new AbortController();
    const { scope, dispose } = CancelScope.fromSignal(controller.signal);
    const child = scope.child();
    controller.abort(new Error('outside'));
    expect(child.reason?.message).toBe('outside');
    dispose();
    const other = new AbortController();
    const linked = CancelScope.fromSignal(other.signal);
    linked.dispose();
    other.abort();
    expect(linked.scope.aborted).toBe(false);
  });
});
