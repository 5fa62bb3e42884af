/**
 * The program of each worker thread of a thread pool: imports the module of
 * the work it is sent (once), calls the named export, and posts back the
 * result or the error (encoded by the codec so its class and code survive).
 *
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { defaultCodec } from '@ergon/core';

/** A job sent by the pool. */
interface JobMessage {
  readonly id: number;
  readonly module: string;
  readonly export: string;
  readonly input: unknown;
  readonly scope: { readonly attempt: number; readonly stage: string };
}

const modules = new Map<string, Promise<Record<string, unknown>>>();

async function run(job: JobMessage): Promise<unknown> {
  let loading = modules.get(job.module);
  if (!loading) {
    loading = import(job.module) as Promise<Record<string, unknown>>;
    modules.set(job.module, loading);
  }
  const fn = (await loading)[job.export];
  if (typeof fn !== 'function') {
    throw new TypeError(`thread work: ${job.module} has no function export '${job.export}'`);
  }
  return fn(job.input, job.scope);
}

function encodeError(error: unknown): string {
  try {
    return defaultCodec.encode(error instanceof Error ? error : new Error(String(error)));
  } catch {
    const plain = error instanceof Error ? error : new Error(String(error));
    const copy = new Error(plain.message);
    copy.name = plain.name;
    copy.stack = plain.stack ?? '';
    return defaultCodec.encode(copy);
  }
}

parentPort?.on('message', (job: JobMessage) => {
  run(job).then(
    (value) => {
      try {
        parentPort?.postMessage({ id: job.id, ok: true, value });
      } catch (error) {
        parentPort?.postMessage({ id: job.id, ok: false, error: encodeError(error) });
      }
    },
    (error: unknown) => parentPort?.postMessage({ id: job.id, ok: false, error: encodeError(error) }),
  );
});
