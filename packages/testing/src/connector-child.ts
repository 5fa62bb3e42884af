/**
 * Imported from `@ergon/testing/connector-child` (no vitest API, so a plain
 * Node.js child process can load it). The child side of the connector
 * conformance suite's crash test: a connector package's fixture script makes
 * a connector on the queue it is told about and hands it to
 * {@link serveConformanceChild}; the suite then asks it over IPC to fetch,
 * and SIGKILLs it while it holds what it fetched.
 *
 * ```js
 * // test/fixtures/conformance-child.mjs
 * import { serveConformanceChild } from '@ergon/testing/connector-child';
 * import { createMyConnector } from '../../dist/index.js';
 * await serveConformanceChild(createMyConnector(JSON.parse(process.argv[2])));
 * ```
 *
 * @module
 */
import type { Connector } from '@ergon/core';

/** Parent → child: fetch until `count` transactions are held (or `timeoutMs` passed), then report. */
export interface ChildFetchRequest {
  /** Discriminant. */
  readonly type: 'fetch';
  /** How many transactions to hold before reporting. */
  readonly count: number;
  /** Report what it holds after this long anyway, in ms. */
  readonly timeoutMs: number;
}

/** Child → parent messages. */
export type ChildReport =
  /** The connector started; the child takes requests. */
  | {
      /** Discriminant. */
      readonly type: 'ready';
    }
  /** What the child fetched and holds, unsettled. */
  | {
      /** Discriminant. */
      readonly type: 'fetched';
      /** The transactions it holds. */
      readonly transactions: readonly {
        /** The transaction's id. */
        id: string;
        /** Its payload. */
        payload: unknown;
      }[];
    }
  /** Something failed; the message says what. */
  | {
      /** Discriminant. */
      readonly type: 'error';
      /** What failed. */
      readonly message: string;
    };

/**
 * Starts `connector`, reports `ready`, and answers fetch requests from the
 * parent process. What it fetches it never settles: the parent kills it.
 * Exits when the parent disconnects.
 *
 * @throws Error when the process has no IPC channel (it must be forked).
 */
export async function serveConformanceChild(connector: Connector): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('serveConformanceChild: run this script with child_process.fork (it needs IPC)');
  const report = (message: ChildReport) => send(message);
  process.on('disconnect', () => process.exit(0));
  try {
    await connector.start?.();
  } catch (error) {
    report({ type: 'error', message: `start failed: ${String(error)}` });
    return;
  }
  const held: { id: string; payload: unknown }[] = [];
  process.on('message', (message: ChildFetchRequest) => {
    if (message?.type !== 'fetch') return;
    void (async () => {
      const deadline = Date.now() + message.timeoutMs;
      while (held.length < message.count && Date.now() < deadline) {
        const batch = (await connector.fetchTransactions?.({ limit: message.count - held.length })) ?? [];
        for (const tx of batch) held.push({ id: tx.id, payload: tx.payload });
      }
      report({ type: 'fetched', transactions: held });
    })().catch((error: unknown) => report({ type: 'error', message: `fetch failed: ${String(error)}` }));
  });
  report({ type: 'ready' });
}
