/**
 * The IPC protocol between a process pool and its children. Outcomes and
 * summaries carry errors, so they travel encoded by the codec.
 *
 * @module
 */
import { defaultCodec } from '@ergon/core';
import type { WorkerInfo } from '../task/context.js';

/** Parent → child: what to run. */
export interface RunMessage {
  /** Message kind. */
  readonly type: 'run';
  /** URL of the module that exports the task. */
  readonly module: string;
  /** The export holding the task. */
  readonly export: string;
  /** Grace period of a graceful stop. */
  readonly shutdownTimeoutMs: number;
  /** The child's place in the pool. */
  readonly worker: WorkerInfo;
  /** Send every outcome back (only when the parent listens). */
  readonly forwardOutcomes: boolean;
}

/** Parent → child: stop gracefully, or abandon in-flight work. */
export interface StopMessage {
  /** Graceful stop, or abandon in-flight work. */
  readonly type: 'stop' | 'abort';
}

/** Child → parent: ready for its `run` message; one outcome; or the final summary. */
export type ReportMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'outcome' | 'summary'; readonly data: string };

/** Encodes a report; a result the codec refuses is dropped rather than losing the report. */
export function encodeReport(value: object): string {
  try {
    return defaultCodec.encode(value, 'pool report');
  } catch {
    const { result: _dropped, ...rest } = value as Record<string, unknown>;
    return defaultCodec.encode(rest, 'pool report');
  }
}

/** Decodes a report. */
export function decodeReport<T>(data: string): T {
  return defaultCodec.decode<T>(data, 'pool report');
}
