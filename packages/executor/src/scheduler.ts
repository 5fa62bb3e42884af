/**
 * The scheduling face of the client, for code that only schedules flows.
 *
 * @module
 */
import { Client, type ClientOptions } from './client.js';
import type { FlowDefinition } from './definitions.js';
import type { FlowHandle } from './flow-handle.js';
import type { ScheduleOptions } from './schedule.js';

/** Schedules flows; a thin face over {@link Client.schedule} for code that only schedules. */
export class Scheduler {
  readonly #client: Client;
  constructor(options: ClientOptions) {
    this.#client = new Client(options);
  }
  /** See {@link Client.schedule}. */
  schedule<I, O>(
    definition: FlowDefinition<I, O>,
    input: NoInfer<I>,
    options?: ScheduleOptions,
  ): Promise<FlowHandle<O>>;
  /** See {@link Client.schedule}: by type name. */
  schedule<I = unknown, O = unknown>(
    type: string,
    input: I,
    options?: ScheduleOptions,
  ): Promise<FlowHandle<O>>;
  schedule<I, O>(
    definition: FlowDefinition<I, O> | string,
    input: NoInfer<I>,
    options?: ScheduleOptions,
  ): Promise<FlowHandle<O>> {
    return typeof definition === 'string'
      ? this.#client.schedule<I, O>(definition, input, options)
      : this.#client.schedule(definition, input, options);
  }
}
