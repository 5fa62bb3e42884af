/**
 * Live updates: server-sent events driven by the store's events. One
 * subscription per dashboard fans out to every open page, coalesced so a
 * burst of flows is one message. A flow's `progress` event names the flow, so
 * the page showing it (and the flows list) refresh within the coalescing
 * window while the overview does not. Stores without events get a slow tick
 * instead. A page showing one unfinished flow also has that flow re-read
 * every `pollMs` while it is open, since recording a step makes no store
 * event; the page hears of it only when it changed.
 *
 * @module
 */
import { isTerminalStatus, type StoreEvent } from '@ergon/core';
import type { Client } from '@ergon/executor';
import type { ChangeMessage } from './api-types.js';

/** Most flow ids one change message names per kind ({@link ChangeMessage}). */
const MAX_IDS = 100;

interface Connection {
  readonly send: (event: string, data: unknown) => void;
  readonly close: () => void;
  /** The flow this page shows, when it shows one. */
  readonly flowId?: string | undefined;
}

const COALESCE_MS = 250;
const KEEPALIVE_MS = 20_000;

/** The SSE fan-out of one dashboard. */
export class EventHub {
  readonly #client: Client;
  readonly #pollMs: number;
  readonly #connections = new Set<Connection>();
  readonly #unsubscribe: (() => void) | undefined;
  #pending:
    | { finished: Set<string>; progress: Set<string>; lists: boolean; timer: NodeJS.Timeout }
    | undefined;
  #closed = false;

  constructor(client: Client, pollMs: number) {
    this.#client = client;
    this.#pollMs = pollMs;
    this.#unsubscribe = client.store.subscribe?.((event) => this.#onStoreEvent(event));
  }

  /** True when updates come from store events (false: a tick every `pollMs`). */
  get live(): boolean {
    return this.#unsubscribe !== undefined;
  }

  /** Tells every page that something changed now (after an action of ours). */
  notify(flowId?: string): void {
    this.#queue({ finished: flowId });
  }

  /** An SSE response for one page; `flowId`: the flow it shows, watched while unfinished. */
  open(signal: AbortSignal, flowId?: string): Response {
    const encoder = new TextEncoder();
    let cleanup = () => {};
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        if (this.#closed) {
          controller.close();
          return;
        }
        let open = true;
        const timers: NodeJS.Timeout[] = [];
        const connection: Connection = {
          flowId,
          send: (event, data) => {
            if (open)
              controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
          },
          close: () => {
            if (!open) return;
            open = false;
            for (const t of timers) clearInterval(t);
            this.#connections.delete(connection);
            signal.removeEventListener('abort', connection.close);
            try {
              controller.close();
            } catch {
              // already closed by the client going away
            }
          },
        };
        cleanup = connection.close;
        this.#connections.add(connection);
        signal.addEventListener('abort', connection.close, { once: true });
        // Reconnect after 3 s if the connection drops; the comment opens the stream at once.
        controller.enqueue(encoder.encode(`retry: 3000\n: ergon\n\n`));
        connection.send('hello', { live: this.live });
        timers.push(
          setInterval(() => open && controller.enqueue(encoder.encode(': keep-alive\n\n')), KEEPALIVE_MS),
        );
        if (!this.live) timers.push(setInterval(() => connection.send('change', tick()), this.#pollMs));
        if (flowId !== undefined) timers.push(this.#watch(connection, flowId));
        for (const t of timers) t.unref();
      },
      cancel: () => cleanup(),
    });
    return new Response(body, {
      headers: {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        'X-Accel-Buffering': 'no',
      },
    });
  }

  /** Ends every stream and the store subscription. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    if (this.#pending) clearTimeout(this.#pending.timer);
    for (const c of [...this.#connections]) c.close();
  }

  #onStoreEvent(event: StoreEvent): void {
    if (event.type === 'progress') this.#queue({ progress: event.flowId });
    else this.#queue({ finished: event.type === 'finished' ? event.flowId : undefined });
  }

  /** Adds to the next message: a progress report alone leaves lists and counts as they are. */
  #queue(change: { finished?: string | undefined; progress?: string | undefined }): void {
    if (this.#closed) return;
    if (!this.#pending) {
      const timer = setTimeout(() => this.#flush(), COALESCE_MS);
      timer.unref();
      this.#pending = { finished: new Set(), progress: new Set(), lists: false, timer };
    }
    const pending = this.#pending;
    if (change.progress === undefined) pending.lists = true;
    else pending.progress.add(change.progress);
    if (change.finished !== undefined) pending.finished.add(change.finished);
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending) return;
    const message: ChangeMessage = {
      finished: [...pending.finished].slice(0, MAX_IDS),
      progress: [...pending.progress].slice(0, MAX_IDS),
      // Too many to name: every page refreshes, as for any other change.
      lists: pending.lists || pending.progress.size > MAX_IDS,
    };
    for (const c of this.#connections) c.send('change', message);
  }

  /** Re-reads an unfinished flow every `pollMs` and tells the page when it changed. */
  #watch(connection: Connection, flowId: string): NodeJS.Timeout {
    let last: string | undefined;
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        const store = this.#client.store;
        const [flow, history] = await Promise.all([store.getFlow(flowId), store.getHistory(flowId)]);
        if (!flow) return;
        // Recording a step does not touch the flow record: its history tells.
        const final = history.filter((h) => h.status !== 'waiting').length;
        const signature = `${flow.status}|${flow.updatedAt}|${history.length}|${final}`;
        if (last !== undefined && signature !== last)
          connection.send('flow', { id: flowId, status: flow.status });
        last = signature;
        if (isTerminalStatus(flow.status)) clearInterval(timer);
      } catch {
        // a store hiccup: try again at the next tick
      } finally {
        busy = false;
      }
    }, this.#pollMs);
    return timer;
  }
}

function tick(): ChangeMessage {
  return { finished: [], progress: [], lists: true };
}
