/**
 * A deliberately broken store, to show the simulation can fail: it drops
 * fencing. A write carrying a stale token is rewritten to carry the flow's
 * current one, so a worker that lost its lease keeps writing over the work of
 * the worker that took the flow over.
 *
 * @module
 */
import type { BatchWrite, ExecutionLog, LeaseRef } from '@ergon/core';

type Fenced = 'renewLease' | 'recordOperation' | 'consumeSignal' | 'setProgress' | 'suspend' | 'finishFlow';
const FENCED: readonly Fenced[] = [
  'renewLease',
  'recordOperation',
  'consumeSignal',
  'setProgress',
  'suspend',
  'finishFlow',
];

/**
 * Wraps `store` so that its fenced writes ignore the token they carry: each is
 * sent with the flow's current token instead. Never use it outside tests of
 * the simulation itself.
 */
export function fencingIgnoringStore(store: ExecutionLog): ExecutionLog {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const current = async <R extends LeaseRef>(request: R): Promise<R> => {
        const flow = await target.getFlow(request.flowId);
        return { ...request, token: flow?.status === 'running' ? flow.fencingToken : request.token };
      };
      if (property === 'applyWrites') {
        // Batches of writes drop fencing too, write by write.
        return async (writes: readonly BatchWrite[]) =>
          value.call(
            target,
            await Promise.all(
              writes.map(async (w) => ({ ...w, request: await current(w.request) }) as BatchWrite),
            ),
          );
      }
      if (!FENCED.includes(property as Fenced)) return value.bind(target);
      return async (request: LeaseRef) => value.call(target, await current(request));
    },
  });
}
