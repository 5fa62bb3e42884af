/**
 * A handle on one flow instance.
 *
 * @module
 */
import type { FlowStatus } from '@ergon/core';
import type { Client } from './client.js';
import type { FlowInfo } from './flow-info.js';
import type { ResultOptions } from './flow-result.js';
import type { ProgressOptions, ProgressUpdate } from './progress.js';

/** A handle on one flow instance; `O` is its output type. */
export class FlowHandle<O> {
  /** The flow's id. */
  readonly id: string;
  readonly #client: Client;
  /** True when this call created the flow, false when the id existed. */
  readonly created: boolean;

  constructor(client: Client, id: string, created: boolean) {
    this.#client = client;
    this.id = id;
    this.created = created;
  }

  /** The flow's status now. */
  async status(): Promise<FlowStatus> {
    return (await this.#client.get(this.id, { history: false })).status;
  }

  /** Waits for the flow to finish and returns its result. @throws FlowFailedError, FlowCancelledError. */
  result(options?: ResultOptions): Promise<O> {
    return this.#client.result<O>(this.id, options);
  }

  /** Everything about the flow. */
  get(): Promise<FlowInfo> {
    return this.#client.get(this.id);
  }

  /** Follows the flow's progress until it finishes; see {@link Client.progress}. */
  progress<T = unknown>(options?: ProgressOptions): AsyncIterable<ProgressUpdate<T>> {
    return this.#client.progress<T>(this.id, options);
  }

  /** Sends a signal to the flow. */
  signal(name: string, payload?: unknown): Promise<void> {
    return this.#client.signal(this.id, name, payload);
  }

  /** Cancels the flow and its children. */
  cancel(reason?: string): Promise<FlowStatus> {
    return this.#client.cancel(this.id, reason);
  }
}
