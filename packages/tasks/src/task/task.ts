/**
 * The union of task kinds that runners accept.
 *
 * @module
 */
import type { ConsumerTask } from './consumer.js';
import type { HybridTask } from './hybrid.js';
import type { ProducerTask } from './producer.js';

/** Any task. Specific tasks (typed payloads and dependencies) are assignable to it. */
export type Task = ConsumerTask | ProducerTask | HybridTask;

/** True for a task made by `consumer()`, `producer()` or `hybrid()`. */
export function isTask(value: unknown): value is Task {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return (
    typeof value === 'object' &&
    value !== null &&
    (kind === 'consumer' || kind === 'producer' || kind === 'hybrid') &&
    typeof (value as { name?: unknown }).name === 'string'
  );
}
