/**
 * What the store's internal functions work with.
 *
 * @module
 */
import type { Db } from './db.js';
import type { EventListener } from './listener.js';
import type { Queries } from './queries.js';

/** The pool and its policies, the prepared statements, and the schema's NOTIFY channel. */
export interface Context {
  readonly db: Db;
  readonly q: Queries;
  readonly channel: string;
  /** Hears of the queues flows are created in, for the catch-up after a LISTEN reconnect. */
  readonly listener: EventListener;
}
