/**
 * Live updates: server-sent events driven by the store's events. One
 * subscription per dashboard fans out to every open page, coalesced so a
 * burst of flows is one message. Stores without events get a slow tick
 * instead. A page showing one unfinished flow also has that flow re-read
 * every `pollMs` while it is open, since recording a step makes no store
 * event; the page hears of it only when it changed.
 *
 * @module
 */
import { isTerminalStatus, type StoreEvent } from '@ergon/core';
import type { Client } from '@ergon/executor';

/** What a page is told: something changed; refresh what you show. */
export interface ChangeMessage {
  /** Flows known to have finished in this batch. */
  readonly finished: readonly string[];
  /** True when the page should refresh lists and counts. */
  readonly lists: boolean;
}

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
  #pending: { finished: Set<string>; timer: NodeJS.Timeout } | undefined;
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
    this.#queue(flowId);
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
    this.#queue(event.type === 'finished' ? event.flowId : undefined);
  }

  #queue(flowId: string | undefined): void {
    if (this.#closed) return;
    if (!this.#pending) {
      const timer = setTimeout(() => this.#flush(), COALESCE_MS);
      timer.unref();
      this.#pending = { finished: new Set(), timer };
    }
    if (flowId !== undefined) this.#pending.finished.add(flowId);
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending) return;
    const message: ChangeMessage = { finished: [...pending.finished].slice(0, 100), lists: true };
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
  return { finished: [], lists: true };
}
