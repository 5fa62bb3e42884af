/**
 * Shared fixtures of the connector conformance suite: the running test's
 * harness, transactions numbered within the test, and fetch loops with
 * deadlines (brokers deliver asynchronously; a single fetch proves little).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createTransaction, type Transaction } from '@ergon/core';
import { expect } from 'vitest';
import type {
  ConformanceConnector,
  ConformancePayload,
  ConnectorHarness,
  DeadLetterRecord,
} from './harness.js';

/** The running test's harness and what it started. */
export interface ConnectorSuiteContext {
  harness: ConnectorHarness;
  /** Unique per test; carried in every payload. */
  run: string;
  /** Connectors the test started; stopped after it, before the harness's teardown. */
  started: ConformanceConnector[];
}

/** A delivered transaction of the suite. */
export type ConformanceTransaction = Transaction<ConformancePayload>;

/** A fresh run id. */
export function runId(): string {
  return randomUUID().slice(0, 8);
}

/** Starts a connector and has it stopped after the test. */
export async function started<C extends ConformanceConnector>(
  ctx: ConnectorSuiteContext,
  connector: C,
): Promise<C> {
  await connector.start?.();
  ctx.started.push(connector);
  return connector;
}

/** The suite's transaction number `n`, id `conformance-<run>-<n>`. */
export function transaction(
  ctx: ConnectorSuiteContext,
  n: number,
  metadata: Record<string, string> = {},
): ConformanceTransaction {
  return createTransaction({ id: `conformance-${ctx.run}-${n}`, payload: { n, run: ctx.run }, metadata });
}

/** Dispatches transactions `from` … `to - 1` through the started main connector. */
export async function publish(ctx: ConnectorSuiteContext, from: number, to: number): Promise<void> {
  const connector = await startedMain(ctx);
  const txs = Array.from({ length: to - from }, (_, i) => transaction(ctx, from + i));
  await connector.dispatchTransactions?.(txs);
}

/** The harness's main connector, started once per test. */
export async function startedMain(ctx: ConnectorSuiteContext): Promise<ConformanceConnector> {
  const main = ctx.harness.connector;
  if (!ctx.started.includes(main)) await started(ctx, main);
  return main;
}

/** Options of {@link collect}. */
export interface CollectOptions {
  /** Per-fetch limit. Default: what is still missing. */
  readonly limit?: number;
  /** Give up after this long. Default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * Fetches until `count` transactions arrived or the deadline passed; returns
 * what arrived (the caller asserts on it). Never settles anything.
 */
export async function collect(
  connector: ConformanceConnector,
  count: number,
  options: CollectOptions = {},
): Promise<ConformanceTransaction[]> {
  const out: ConformanceTransaction[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (out.length < count && Date.now() < deadline) {
    const limit = options.limit ?? count - out.length;
    const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    out.push(...((await connector.fetchTransactions?.({ limit, signal })) ?? []));
  }
  return out;
}

/** Fetches for `ms` and expects nothing at all. */
export async function expectNothing(connector: ConformanceConnector, ms = 1000): Promise<void> {
  const got = await collect(connector, 1, { timeoutMs: ms });
  expect(numbers(got), 'nothing more should be delivered').toEqual([]);
}

/** The payload numbers of `txs`, sorted. */
export function numbers(txs: readonly ConformanceTransaction[]): number[] {
  return txs.map((tx) => tx.payload.n).sort((a, b) => a - b);
}

/** `[from, …, to - 1]`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Polls `check` until it holds or `timeoutMs` passed. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Asserts that the promise rejects with an Ergon error of this code. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}

/** Reads the dead letters until there is at least one (10 s at most), and returns them. */
export async function deadLetters(ctx: ConnectorSuiteContext): Promise<DeadLetterRecord[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const letters = await ctx.harness.readDeadLetters();
    if (letters.length > 0 || Date.now() > deadline) return letters;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
